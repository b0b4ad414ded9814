/**
 * A stand-in for EKS Auth `AssumeRoleForPodIdentity` on 127.0.0.1, faithful to the contract the
 * agent relies on (botocore `eks-auth/2023-11-26`): SigV4 verified (`eks-auth` scope) with the
 * server's own verifier, REST-JSON errors with `x-amzn-ErrorType`, `x-amzn-RequestId`, AWS's
 * statuses; per-pod credentials. Tests steer it per token (errors, delays, hangs, dropped
 * connections) and read its call counters. It also answers STS `GetCallerIdentity` signed with
 * the credentials it issued, so a real client can prove which credentials it holds.
 *
 * It implements {@link EksAuthBackend}, the little the agent tests need from an EKS Auth server,
 * so the real Latchkey server can take its place.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSignatureV4, verifySignatureV4 } from '../../../src/sigv4/index.js';
import { claimsOf, PodTokenIssuer, type PodRef } from './pod-token.js';

/** What the agent tests need from an EKS Auth server. */
export interface EksAuthBackend {
  /** Endpoint to pass as `--server`. */
  readonly url: string;
  readonly region: string;
  readonly cluster: string;
  /** Keys the agent signs with. */
  readonly nodeCredentials: { accessKeyId: string; secretAccessKey: string };
  /** A projected token for a pod whose service account has an association. */
  podToken(pod: PodRef, options?: { lifetimeSeconds?: number; nowMs?: number }): string;
  close(): Promise<void>;
}

/** How the stand-in answers one call. */
export type Outcome =
  | { kind: 'ok'; expiresInSeconds?: number }
  | { kind: 'error'; code: string; status?: number; message?: string }
  | { kind: 'delay'; ms: number; then?: Outcome }
  /** One step per call, in order; `ok` once they are used up. */
  | { kind: 'sequence'; steps: Outcome[] }
  | { kind: 'hang' }
  | { kind: 'drop' }
  | { kind: 'raw'; status: number; body: string; headers?: Record<string, string> };

/** EKS Auth's statuses per error (botocore model). */
export const EKS_AUTH_STATUS: Readonly<Record<string, number>> = {
  AccessDeniedException: 400,
  ExpiredTokenException: 400,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  InvalidTokenException: 400,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

/** Credentials the stand-in issued, by access key id. */
export interface Issued {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: number;
  namespace: string;
  serviceAccount: string;
  podName: string;
  roleArn: string;
  token: string;
}

const JWT_PATTERN = /^[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+$/;
const ACCOUNT = '111122223333';

/** Options of the stand-in. */
export interface StandInOptions {
  cluster?: string;
  region?: string;
  /** Lifetime of issued credentials (default 6 h, as EKS). */
  credentialSeconds?: number;
  /** Clock, ms (default `Date.now`); share it with the agent's to move time. */
  clock?: () => number;
  /** Fixed port (default: a free one). */
  port?: number;
}

/** The stand-in server. */
export class EksAuthStandIn implements EksAuthBackend {
  readonly cluster: string;
  readonly region: string;
  readonly nodeCredentials = {
    accessKeyId: 'AKIANODEKEY000000001',
    secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
  };
  /** Per-token outcomes (token → outcome), before the default `ok`. */
  readonly outcomes = new Map<string, Outcome>();
  /** An outcome for every token without its own, when set. */
  defaultOutcome: Outcome | undefined;
  /** Issued credentials by access key id. */
  readonly issued = new Map<string, Issued>();
  /** Associations: `namespace/serviceAccount` → role ARN. */
  readonly associations = new Map<string, string>();
  credentialSeconds: number;
  #calls = 0;
  #signatureFailures = 0;
  readonly #callsByToken = new Map<string, number>();
  readonly #tokens: PodTokenIssuer;
  readonly #clock: () => number;
  readonly #server: http.Server;
  #port = 0;

  private constructor(options: StandInOptions) {
    this.cluster = options.cluster ?? 'dev';
    this.region = options.region ?? 'us-east-1';
    this.credentialSeconds = options.credentialSeconds ?? 6 * 3600;
    this.#clock = options.clock ?? Date.now;
    this.#tokens = new PodTokenIssuer(
      `https://oidc.eks.${this.region}.amazonaws.com/id/STANDIN`,
      randomBytes(32),
    );
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
  }

  /** Starts a stand-in on 127.0.0.1. */
  static async start(options: StandInOptions = {}): Promise<EksAuthStandIn> {
    const standIn = new EksAuthStandIn(options);
    await standIn.#listen(options.port ?? 0);
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** AssumeRoleForPodIdentity calls that passed authentication. */
  get calls(): number {
    return this.#calls;
  }

  /** Calls refused for a bad signature. */
  get signatureFailures(): number {
    return this.#signatureFailures;
  }

  /** Calls made with `token`. */
  callsFor(token: string): number {
    return this.#callsByToken.get(hash(token)) ?? 0;
  }

  /** Associates a service account with a role (created on demand). */
  associate(
    namespace: string,
    serviceAccount: string,
    roleName = `${namespace}-${serviceAccount}`,
  ): string {
    const arn = `arn:aws:iam::${ACCOUNT}:role/${roleName}`;
    this.associations.set(`${namespace}/${serviceAccount}`, arn);
    return arn;
  }

  /** Removes a service account's association. */
  dissociate(namespace: string, serviceAccount: string): void {
    this.associations.delete(`${namespace}/${serviceAccount}`);
  }

  podToken(
    pod: PodRef,
    options: { lifetimeSeconds?: number; nowMs?: number; audience?: string } = {},
  ): string {
    if (!this.associations.has(`${pod.namespace}/${pod.serviceAccount}`)) {
      this.associate(pod.namespace, pod.serviceAccount);
    }
    return this.#tokens.mint(pod, { nowMs: options.nowMs ?? this.#clock(), ...options });
  }

  /** Signs arbitrary header and claims with the stand-in's key. */
  signToken(header: unknown, claims: unknown): string {
    return this.#tokens.sign(header, claims);
  }

  /** The pod an access key was issued to. */
  ownerOf(accessKeyId: string): Issued | undefined {
    return this.issued.get(accessKeyId);
  }

  /** Stops listening (EKS Auth down: connections are refused). */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    if (this.#server.listening) await this.stop();
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (path.startsWith('/_stand-in/')) {
      this.#control(
        req.method ?? 'GET',
        path,
        new URLSearchParams(url.split('?')[1] ?? ''),
        body,
        res,
      );
      return;
    }
    const match = /^\/clusters\/([^/]+)\/assume-role-for-pod-identity$/.exec(path);
    if (req.method === 'POST' && match !== null) {
      await this.#assumeRoleForPodIdentity(req, res, decodeURIComponent(match[1] ?? ''), body);
      return;
    }
    if (req.method === 'POST' && path === '/' && body.includes('Action=GetCallerIdentity')) {
      this.#getCallerIdentity(req, res, body);
      return;
    }
    sendError(res, 'UnknownOperationException', 'Unknown operation', 404);
  }

  /**
   * Control API for a stand-in in another process (benchmarks): `GET /_stand-in/stats`,
   * `GET /_stand-in/node-credentials`, `GET /_stand-in/token?namespace=&serviceAccount=`,
   * `PUT /_stand-in/default-outcome` (an {@link Outcome}, or `null`).
   */
  #control(
    method: string,
    path: string,
    query: URLSearchParams,
    body: string,
    res: http.ServerResponse,
  ): void {
    if (method === 'GET' && path === '/_stand-in/stats') {
      sendJson(res, 200, { calls: this.#calls, signatureFailures: this.#signatureFailures });
    } else if (method === 'GET' && path === '/_stand-in/node-credentials') {
      sendJson(res, 200, this.nodeCredentials);
    } else if (method === 'GET' && path === '/_stand-in/token') {
      const pod = {
        namespace: query.get('namespace') ?? 'default',
        serviceAccount: query.get('serviceAccount') ?? 'app',
      };
      sendJson(res, 200, { token: this.podToken(pod) });
    } else if (method === 'PUT' && path === '/_stand-in/default-outcome') {
      this.defaultOutcome = (JSON.parse(body) as Outcome | null) ?? undefined;
      sendJson(res, 200, {});
    } else {
      sendError(res, 'UnknownOperationException', 'Unknown control operation', 404);
    }
  }

  async #assumeRoleForPodIdentity(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    cluster: string,
    body: string,
  ): Promise<void> {
    const denied = this.#authenticate(
      req,
      body,
      'eks-auth',
      () => this.nodeCredentials.secretAccessKey,
    );
    if (denied !== undefined) {
      this.#signatureFailures++;
      sendError(res, denied.code, denied.message, 403);
      return;
    }
    this.#calls++;
    let token = '';
    try {
      const parsed = JSON.parse(body) as { token?: unknown };
      token = typeof parsed.token === 'string' ? parsed.token : '';
    } catch {
      sendError(res, 'InvalidRequestException', 'The request body is not valid JSON.', 400);
      return;
    }
    const tokenHash = hash(token);
    this.#callsByToken.set(tokenHash, (this.#callsByToken.get(tokenHash) ?? 0) + 1);
    const outcome = this.outcomes.get(token) ?? this.defaultOutcome ?? { kind: 'ok' };
    await this.#answer(res, outcome, cluster, token);
  }

  async #answer(
    res: http.ServerResponse,
    outcome: Outcome,
    cluster: string,
    token: string,
  ): Promise<void> {
    switch (outcome.kind) {
      case 'delay':
        await new Promise((r) => setTimeout(r, outcome.ms));
        await this.#answer(res, outcome.then ?? { kind: 'ok' }, cluster, token);
        return;
      case 'sequence':
        await this.#answer(res, outcome.steps.shift() ?? { kind: 'ok' }, cluster, token);
        return;
      case 'hang':
        return;
      case 'drop':
        res.socket?.destroy();
        return;
      case 'raw':
        res.writeHead(outcome.status, { 'content-type': 'application/json', ...outcome.headers });
        res.end(outcome.body);
        return;
      case 'error':
        sendError(
          res,
          outcome.code,
          outcome.message ?? `${outcome.code} from the stand-in`,
          outcome.status,
        );
        return;
      case 'ok':
        this.#issue(res, cluster, token, outcome.expiresInSeconds);
        return;
    }
  }

  /** The real operation's checks, in EKS Auth's order, then fresh credentials. */
  #issue(
    res: http.ServerResponse,
    cluster: string,
    token: string,
    expiresInSeconds?: number,
  ): void {
    if (cluster !== this.cluster) {
      sendError(res, 'ResourceNotFoundException', `No cluster found for name: ${cluster}.`, 404);
      return;
    }
    if (!JWT_PATTERN.test(token)) {
      sendError(res, 'InvalidParameterException', 'The token is not a valid JWT.', 400);
      return;
    }
    if (!this.#tokens.verify(token)) {
      sendError(res, 'InvalidTokenException', 'The token could not be verified.', 400);
      return;
    }
    const claims = claimsOf(token);
    if (!Array.isArray(claims.aud) || !claims.aud.includes('pods.eks.amazonaws.com')) {
      sendError(res, 'InvalidTokenException', 'Incorrect token audience.', 400);
      return;
    }
    const now = this.#clock();
    if (claims.exp * 1000 <= now) {
      sendError(res, 'ExpiredTokenException', 'Token is expired.', 400);
      return;
    }
    const k8s = claims['kubernetes.io'];
    const roleArn = this.associations.get(`${k8s.namespace}/${k8s.serviceaccount.name}`);
    if (roleArn === undefined) {
      sendError(
        res,
        'ResourceNotFoundException',
        `No Pod Identity Association found for service account ${k8s.serviceaccount.name} in namespace ${k8s.namespace}.`,
        404,
      );
      return;
    }
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const expiration = Math.floor(now / 1000) + (expiresInSeconds ?? this.credentialSeconds);
    const issued: Issued = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
      sessionToken: `standin/${k8s.namespace}/${k8s.serviceaccount.name}/${randomBytes(24).toString('base64url')}`,
      expiration,
      namespace: k8s.namespace,
      serviceAccount: k8s.serviceaccount.name,
      podName: k8s.pod.name,
      roleArn,
      token,
    };
    this.issued.set(accessKeyId, issued);
    const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
    const sessionName = `eks-${cluster}-${k8s.pod.name}-${randomUUID()}`.slice(0, 64);
    const associationId = `a-${hash(`${k8s.namespace}/${k8s.serviceaccount.name}`).slice(0, 17).toLowerCase()}`;
    sendJson(res, 200, {
      subject: { namespace: k8s.namespace, serviceAccount: k8s.serviceaccount.name },
      audience: 'pods.eks.amazonaws.com',
      podIdentityAssociation: {
        associationArn: `arn:aws:eks:${this.region}:${ACCOUNT}:podidentityassociation/${cluster}/${associationId}`,
        associationId,
      },
      assumedRoleUser: {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${sessionName}`,
        assumeRoleId: `AROA${hash(roleArn).slice(0, 17).toUpperCase()}:${sessionName}`,
      },
      credentials: {
        sessionToken: issued.sessionToken,
        secretAccessKey: issued.secretAccessKey,
        accessKeyId,
        expiration,
      },
    });
  }

  /** STS GetCallerIdentity for the credentials this stand-in issued. */
  #getCallerIdentity(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    let issued: Issued | undefined;
    const denied = this.#authenticate(req, body, 'sts', (keyId, securityToken) => {
      issued = this.issued.get(keyId);
      return issued !== undefined && issued.sessionToken === securityToken
        ? issued.secretAccessKey
        : undefined;
    });
    if (denied !== undefined || issued === undefined) {
      res.writeHead(403, { 'content-type': 'text/xml' });
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>${denied?.message ?? 'unknown key'}</Message></Error></ErrorResponse>`,
      );
      return;
    }
    const roleName = issued.roleArn.slice(issued.roleArn.lastIndexOf('/') + 1);
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
        `<Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/eks-${this.cluster}-${issued.podName}</Arn>` +
        `<UserId>AROA:${issued.podName}</UserId><Account>${ACCOUNT}</Account></GetCallerIdentityResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  }

  /** Verifies SigV4 with the server's verifier; returns the refusal, or undefined. */
  #authenticate(
    req: http.IncomingMessage,
    body: string,
    service: string,
    secretFor: (accessKeyId: string, securityToken: string | undefined) => string | undefined,
  ): { code: string; message: string } | undefined {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const sigReq = {
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? '' : url.slice(q + 1),
      headers: req.headersDistinct,
    };
    try {
      const parsed = parseSignatureV4(sigReq);
      if (parsed === null)
        return {
          code: 'MissingAuthenticationTokenException',
          message: 'Missing Authentication Token',
        };
      const secret = secretFor(parsed.accessKeyId, parsed.securityToken);
      if (secret === undefined) {
        return {
          code: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
        };
      }
      verifySignatureV4(sigReq, parsed, secret, {
        maxSkewSeconds: 300,
        payloadHash: createHash('sha256').update(body).digest('hex'),
        service,
        region: this.region,
      });
      return undefined;
    } catch (err) {
      return {
        code: 'InvalidSignatureException',
        message: err instanceof Error ? err.message : 'bad signature',
      };
    }
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': randomUUID(),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, code: string, message: string, status?: number): void {
  const text = JSON.stringify({ __type: code, message });
  res.writeHead(status ?? EKS_AUTH_STATUS[code] ?? 400, {
    'content-type': 'application/json',
    'x-amzn-errortype': code,
    'x-amzn-requestid': randomUUID(),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
