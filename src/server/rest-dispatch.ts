import { createHash, randomUUID } from 'node:crypto';
import {
  auditedCall,
  callKind,
  newRecord,
  principalIdentity,
  toRecordValue,
  type AuditNotes,
} from '../audit/index.js';
import { authenticateRequest } from '../auth/index.js';
import { AwsError, toAwsError } from '../errors/index.js';
import { matchRoute, parseJsonBody, renderJsonError, type RestService } from '../protocol/index.js';
import type { SigV4Request } from '../sigv4/index.js';
import { userAgentOf, type EdgeContext } from './edge-context.js';
import type { HttpAnswer } from './query-dispatch.js';
import type { ParsedSignature } from './signature.js';

/** REST-JSON services accept up to 5 minutes of clock skew, as IAM and STS do. */
const REST_MAX_SKEW_SECONDS = 300;

/** Routes REST-JSON and AWS JSON calls (EKS, CloudTrail, Latchkey's API) by signing name. */
export class RestDispatcher {
  readonly #bySigningName: Map<string, RestService>;

  constructor(
    services: RestService[],
    private readonly edge: EdgeContext,
  ) {
    this.#bySigningName = new Map(services.map((s) => [s.signingName, s]));
  }

  /** The service a signing name selects, if it is a REST-JSON one. */
  serviceFor(signingName: string | undefined): RestService | undefined {
    return signingName === undefined ? undefined : this.#bySigningName.get(signingName);
  }

  /** Authenticates and runs one call of `service` under the audit trail. */
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
      const { principal } = await authenticateRequest(req, parsed.signature, this.edge.resolver, {
        maxSkewSeconds: REST_MAX_SKEW_SECONDS,
        payloadHash: createHash('sha256').update(body).digest('hex'),
      });
      if (this.edge.throttle?.admit(principal.accountId, service.signingName) === false) {
        throw new AwsError('ThrottlingException', 'Rate exceeded');
      }
      const target = req.headers['x-amz-target'];
      const match = matchRoute(
        service,
        req.method,
        req.path,
        Array.isArray(target) ? target[0] : target,
      );
      if (match === undefined) {
        throw new AwsError('NotFound', `No ${req.method} operation at ${req.path}.`);
      }
      const json = parseJsonBody(body);
      const query = new URLSearchParams(req.query);
      const notes: AuditNotes = {
        identity: principalIdentity(principal),
        recipientAccountId: principal.accountId,
      };
      const operation = match.route.operation;
      const record = newRecord({
        eventSource: `${service.signingName}.amazonaws.com`,
        eventName: operation,
        region: this.edge.region,
        sourceIp,
        userAgent: userAgentOf(req),
        requestId,
        readOnly: callKind(operation) === 'read',
        identity: notes.identity ?? { type: 'Unknown' },
        recipientAccountId: principal.accountId,
        requestParameters: { ...Object.fromEntries(query), ...match.params, ...json },
      });
      const result = await auditedCall(
        this.edge.trail,
        record,
        notes,
        () =>
          match.route.handler({
            principal,
            params: match.params,
            query,
            body: json,
            requestId,
            sourceIp,
            audit: notes,
          }),
        (r) => (r === undefined ? null : (toRecordValue(r) as Record<string, unknown>)),
      );
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
        body: JSON.stringify(result ?? {}),
      };
    } catch (err) {
      const error = toAwsError(err);
      if (error !== err) this.edge.onInternalError(err);
      return renderJsonError(error, requestId);
    }
  }
}
