import { createHash, randomUUID } from 'node:crypto';
import { authenticateRequest, type CredentialResolver } from '../auth/index.js';
import { AwsError, toAwsError } from '../errors/index.js';
import { matchRoute, parseJsonBody, renderJsonError, type RestService } from '../protocol/index.js';
import type { SigV4Request } from '../sigv4/index.js';
import type { ParsedSignature } from './signature.js';
import type { HttpAnswer } from './query-dispatch.js';

/** REST-JSON services accept up to 5 minutes of clock skew, as IAM and STS do. */
const REST_MAX_SKEW_SECONDS = 300;

/** Routes REST-JSON calls (EKS, Latchkey's API) by signing name, method and path. */
export class RestDispatcher {
  readonly #bySigningName: Map<string, RestService>;

  constructor(
    services: RestService[],
    private readonly resolver: CredentialResolver,
    private readonly onInternalError: (err: unknown) => void,
  ) {
    this.#bySigningName = new Map(services.map((s) => [s.signingName, s]));
  }

  /** The service a signing name selects, if it is a REST-JSON one. */
  serviceFor(signingName: string | undefined): RestService | undefined {
    return signingName === undefined ? undefined : this.#bySigningName.get(signingName);
  }

  /** Authenticates and runs one call of `service`. */
  async dispatch(
    service: RestService,
    req: SigV4Request,
    parsed: ParsedSignature,
    body: Buffer,
    sourceIp: string,
  ): Promise<HttpAnswer> {
    const requestId = randomUUID();
    try {
      if (parsed.error !== undefined) throw parsed.error;
      if (parsed.signature === null) {
        throw new AwsError('MissingAuthenticationToken', 'Missing Authentication Token');
      }
      const authenticated = await authenticateRequest(req, parsed.signature, this.resolver, {
        maxSkewSeconds: REST_MAX_SKEW_SECONDS,
        payloadHash: createHash('sha256').update(body).digest('hex'),
      });
      const match = matchRoute(service, req.method, req.path);
      if (match === undefined) {
        throw new AwsError('NotFound', `No ${req.method} operation at ${req.path}.`);
      }
      const result = await match.route.handler({
        principal: authenticated.principal,
        params: match.params,
        query: new URLSearchParams(req.query),
        body: parseJsonBody(body),
        requestId,
        sourceIp,
      });
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
        body: JSON.stringify(result ?? {}),
      };
    } catch (err) {
      const error = toAwsError(err);
      if (error !== err) this.onInternalError(err);
      return renderJsonError(error, requestId);
    }
  }
}
