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
import {
  QueryParams,
  renderQueryError,
  renderQueryResult,
  type QueryService,
  type XmlObject,
} from '../protocol/index.js';
import type { SigV4Request } from '../sigv4/index.js';
import { userAgentOf, type EdgeContext } from './edge-context.js';
import type { ParsedSignature } from './signature.js';

/** IAM and STS accept up to 5 minutes of clock skew. */
const QUERY_MAX_SKEW_SECONDS = 300;

/** An HTTP answer, independent of the HTTP framework. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Routes Query-protocol calls (IAM, STS) to their services by the signing scope. */
export class QueryDispatcher {
  readonly #bySigningName: Map<string, QueryService>;
  readonly #fallback: QueryService;

  constructor(
    services: QueryService[],
    private readonly edge: EdgeContext,
  ) {
    this.#bySigningName = new Map(services.map((s) => [s.signingName, s]));
    const sts = this.#bySigningName.get('sts');
    if (sts === undefined) throw new Error('the STS service is required');
    this.#fallback = sts;
  }

  /**
   * Authenticates and runs one Query call under the audit trail. Errors come back as AWS's
   * `ErrorResponse` in the namespace of the service the request was meant for.
   */
  async dispatch(
    req: SigV4Request,
    parsed: ParsedSignature,
    body: Buffer,
    sourceIp: string,
  ): Promise<HttpAnswer> {
    const requestId = randomUUID();
    let service = this.#fallback;
    try {
      const params = QueryParams.parse(req.query, body.toString('utf8'));
      const action = params.action;
      const anonymous = this.#anonymousHandler(action);
      if (action !== undefined && anonymous !== undefined) {
        service = anonymous.service;
        const notes: AuditNotes = {};
        // Unsigned calls (AssumeRoleWithWebIdentity) count against the role's account.
        const roleAccount = /^arn:[^:]+:iam::(\d{12}):/.exec(params.get('RoleArn') ?? '')?.[1];
        if (roleAccount !== undefined) this.#admit(roleAccount, service);
        const record = this.#record(service, action, req, params, sourceIp, requestId, notes);
        const result = await auditedCall(
          this.edge.trail,
          record,
          notes,
          () => anonymous.handler({ params, requestId, sourceIp, audit: notes }),
          describe,
        );
        return xml(200, renderQueryResult(action, service.namespace, result, requestId), requestId);
      }
      if (parsed.error !== undefined) throw parsed.error;
      const signature = parsed.signature;
      if (signature === null) {
        throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
      }
      service = this.#bySigningName.get(signature.service) ?? service;
      if (!this.#bySigningName.has(signature.service)) {
        throw new AwsError(
          'SignatureDoesNotMatch',
          `Credential should be scoped to correct service: '${service.signingName}'. `,
        );
      }
      const { principal } = await authenticateRequest(req, signature, this.edge.resolver, {
        maxSkewSeconds: QUERY_MAX_SKEW_SECONDS,
        payloadHash: createHash('sha256').update(body).digest('hex'),
      });
      this.#admit(principal.accountId, service);
      if (action === undefined) throw new AwsError('MissingAction', 'Missing Action');
      const handler = Object.hasOwn(service.actions, action) ? service.actions[action] : undefined;
      if (handler === undefined) {
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${action} for version ${versionOf(service)}`,
        );
      }
      const notes: AuditNotes = {
        identity: principalIdentity(principal),
        recipientAccountId: principal.accountId,
      };
      const record = this.#record(service, action, req, params, sourceIp, requestId, notes);
      const result = await auditedCall(
        this.edge.trail,
        record,
        notes,
        () => handler({ params, principal, requestId, sourceIp, audit: notes }),
        describe,
      );
      return xml(200, renderQueryResult(action, service.namespace, result, requestId), requestId);
    } catch (err) {
      const error = toAwsError(err);
      if (error !== err) this.edge.onInternalError(err);
      return xml(error.status, renderQueryError(error, service.namespace, requestId), requestId);
    }
  }

  /** Answers a Query request refused before dispatch (e.g. its body is too large). */
  reject(parsed: ParsedSignature, error: AwsError): HttpAnswer {
    const requestId = randomUUID();
    const signingName = parsed.signature?.service;
    const service = (signingName && this.#bySigningName.get(signingName)) || this.#fallback;
    return xml(error.status, renderQueryError(error, service.namespace, requestId), requestId);
  }

  /** Throttles the account's calls to `service` (IAM and STS answer `Throttling`, HTTP 400). */
  #admit(accountId: string, service: QueryService): void {
    if (this.edge.throttle?.admit(accountId, service.signingName) === false) {
      throw new AwsError('Throttling', 'Rate exceeded');
    }
  }

  #record(
    service: QueryService,
    action: string,
    req: SigV4Request,
    params: QueryParams,
    sourceIp: string,
    requestId: string,
    notes: AuditNotes,
  ) {
    return newRecord({
      eventSource: `${service.signingName}.amazonaws.com`,
      eventName: action,
      region: this.edge.region,
      sourceIp,
      userAgent: userAgentOf(req),
      requestId,
      readOnly: callKind(action) === 'read',
      identity: notes.identity ?? { type: 'Unknown' },
      recipientAccountId: notes.recipientAccountId ?? '',
      requestParameters: params.toRecord(),
    });
  }

  /** The service and handler of an operation that takes no credentials, if `action` is one. */
  #anonymousHandler(action: string | undefined) {
    if (action === undefined) return undefined;
    for (const service of this.#bySigningName.values()) {
      const actions = service.anonymousActions;
      const handler = actions && Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (handler !== undefined) return { service, handler };
    }
    return undefined;
  }
}

function describe(result: XmlObject | undefined): Record<string, unknown> | null {
  return result === undefined ? null : (toRecordValue(result) as Record<string, unknown>);
}

function versionOf(service: QueryService): string {
  return /\/doc\/([\d-]+)\/$/.exec(service.namespace)?.[1] ?? '';
}

function xml(status: number, body: string, requestId: string): HttpAnswer {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body,
  };
}
