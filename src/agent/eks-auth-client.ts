/**
 * The EKS Auth client: `AssumeRoleForPodIdentity` (REST-JSON
 * `POST /clusters/{clusterName}/assume-role-for-pod-identity`, body `{token}`), SigV4-signed as
 * `eks-auth` by the node's credentials, with upstream's timeouts (1 s per attempt, 0.5 s to
 * connect, `internal/cloud/eksauth/service.go`) and the Go SDK's retries.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import http from 'node:http';
import https from 'node:https';
import type { PodCredentials } from './credentials.js';
import { EksAuthError, EksAuthTransportError } from './errors.js';
import { backoffDelayMs, isRetryable, RetryQuota } from './retry.js';

/** Keys the node signs with. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** Static credentials, or a function returning the current ones (for rotation). */
export type SigningCredentialsSource = SigningCredentials | (() => Promise<SigningCredentials>);

/** How to reach EKS Auth. */
export interface EksAuthClientOptions {
  /** Base URL of the EKS Auth endpoint, e.g. Latchkey's `http://127.0.0.1:4599`. */
  endpoint: string;
  /** Cluster the node belongs to. */
  cluster: string;
  /** Region of the SigV4 credential scope. */
  region: string;
  credentials: SigningCredentialsSource;
  /** Per-attempt time limit, ms (upstream: 1000). */
  timeoutMs?: number;
  /** Time limit to open a connection, ms (upstream: 500). */
  connectTimeoutMs?: number;
  /** Attempts per call, first included (Go SDK: 3). */
  maxAttempts?: number;
  /** Backoff unit, ms: retry n waits `random × 2^n × retryBaseMs` (Go SDK: 1000). */
  retryBaseMs?: number;
  /** Source of randomness for jitter (default `Math.random`). */
  random?: () => number;
  /** Told about every attempt, for metrics: outcome is `success`, an error code, or a transport failure. */
  onAttempt?: (outcome: string, seconds: number) => void;
}

/** Largest EKS Auth answer read (a real one is about 2 KiB). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Calls EKS Auth. One instance per agent: it keeps connections alive between calls.
 *
 * @example
 * ```ts
 * const client = new EksAuthClient({ endpoint, cluster: 'dev', region: 'us-east-1', credentials });
 * const creds = await client.assumeRoleForPodIdentity(podToken); // throws EksAuthError
 * ```
 */
export class EksAuthClient {
  readonly #url: URL;
  readonly #signer: SignatureV4;
  readonly #transport: typeof http | typeof https;
  readonly #agent: http.Agent;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #random: () => number;
  readonly #quota = new RetryQuota();
  readonly #onAttempt: ((outcome: string, seconds: number) => void) | undefined;

  constructor(options: EksAuthClientOptions) {
    const base = new URL(options.endpoint);
    const prefix = base.pathname.replace(/\/+$/, '');
    this.#url = new URL(
      `${prefix}/clusters/${encodeURIComponent(options.cluster)}/assume-role-for-pod-identity`,
      base,
    );
    const https_ = this.#url.protocol === 'https:';
    this.#transport = https_ ? https : http;
    this.#agent = new (https_ ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 64 });
    const credentials = options.credentials;
    this.#signer = new SignatureV4({
      service: 'eks-auth',
      region: options.region,
      sha256: Sha256,
      credentials: typeof credentials === 'function' ? credentials : async () => credentials,
    });
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 500;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#retryBaseMs = options.retryBaseMs ?? 1000;
    this.#random = options.random ?? Math.random;
    this.#onAttempt = options.onAttempt;
  }

  /**
   * Exchanges a pod's token for its association's credentials. Throws {@link EksAuthError} for an
   * error answer (after retries where the Go SDK retries), {@link EksAuthTransportError} when
   * EKS Auth cannot be reached in time or answers with an unusable body.
   */
  async assumeRoleForPodIdentity(token: string): Promise<PodCredentials> {
    const body = JSON.stringify({ token });
    let retryCost = 0;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const creds = await this.#attempt(body);
        this.#onAttempt?.('success', (performance.now() - started) / 1000);
        this.#quota.release(retryCost);
        return creds;
      } catch (err) {
        this.#onAttempt?.(attemptOutcome(err), (performance.now() - started) / 1000);
        if (attempt >= this.#maxAttempts || !isRetryable(err)) throw err;
        const cost = this.#quota.acquire(err);
        if (cost === 0) throw err;
        retryCost += cost;
        await sleep(backoffDelayMs(attempt, this.#random, this.#retryBaseMs));
      }
    }
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #attempt(body: string): Promise<PodCredentials> {
    const url = this.#url;
    const signed = await this.#signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    });
    const { status, headers, text } = await this.#send(signed.headers, body);
    if (status < 200 || status > 299) throw parseError(status, headers, text);
    return parseCredentials(text);
  }

  #send(
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      // The first failure decided wins: a timeout is reported as such, whatever the socket says.
      let failure: EksAuthTransportError | undefined;
      const fail = (err: EksAuthTransportError) => {
        failure ??= err;
        clearTimeout(timer);
        reject(failure);
      };
      const abort = (err: EksAuthTransportError) => {
        failure ??= err;
        req.destroy(err);
      };
      const req = this.#transport.request(this.#url, {
        method: 'POST',
        agent: this.#agent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      });
      const timer = setTimeout(() => {
        abort(timeoutError(`request to EKS Auth timed out after ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const connectTimer = setTimeout(() => {
          abort(
            timeoutError(`connecting to EKS Auth timed out after ${this.#connectTimeoutMs} ms`),
          );
        }, this.#connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
      req.on('error', (err) => {
        fail(
          err instanceof EksAuthTransportError
            ? err
            : new EksAuthTransportError('network', `request to EKS Auth failed: ${err.message}`),
        );
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            abort(new EksAuthTransportError('invalid-response', 'EKS Auth answer too large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('close', () => {
          if (!res.complete) {
            fail(new EksAuthTransportError('network', 'EKS Auth closed the connection mid-answer'));
          }
        });
      });
      req.end(body);
    });
  }
}

function timeoutError(message: string): EksAuthTransportError {
  return new EksAuthTransportError('timeout', message);
}

/**
 * Reads a REST-JSON error as the Go SDK does: the code from `x-amzn-ErrorType` (else the body's
 * `__type` or `code`), cut at `:` and after `#`; the message from `message`/`Message`.
 */
export function parseError(
  status: number,
  headers: http.IncomingHttpHeaders,
  text: string,
): EksAuthError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: the code comes from the header alone.
  }
  const header = single(headers['x-amzn-errortype']);
  const bodyCode = typeof body.__type === 'string' ? body.__type : body.code;
  const rawCode = header || (typeof bodyCode === 'string' ? bodyCode : '');
  const code = sanitizeErrorCode(rawCode) || 'UnknownError';
  const rawMessage = body.message ?? body.Message;
  const message = typeof rawMessage === 'string' && rawMessage !== '' ? rawMessage : code;
  return new EksAuthError(code, message, status, single(headers['x-amzn-requestid']));
}

function sanitizeErrorCode(code: string): string {
  let out = code;
  const colon = out.indexOf(':');
  if (colon >= 0) out = out.slice(0, colon);
  const hash = out.lastIndexOf('#');
  if (hash >= 0) out = out.slice(hash + 1);
  return out.trim();
}

/** Reads a 200 answer; throws when credentials or the assumed role are missing (as upstream). */
export function parseCredentials(text: string): PodCredentials {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new EksAuthTransportError('invalid-response', 'EKS Auth answered with invalid JSON');
  }
  const root = record(body);
  const credentials = record(root?.credentials);
  const user = record(root?.assumedRoleUser);
  const association = record(root?.podIdentityAssociation);
  const expiration = credentials?.expiration;
  if (
    credentials === undefined ||
    user === undefined ||
    typeof credentials.accessKeyId !== 'string' ||
    typeof credentials.secretAccessKey !== 'string' ||
    typeof credentials.sessionToken !== 'string' ||
    typeof expiration !== 'number' ||
    !Number.isFinite(expiration) ||
    typeof user.arn !== 'string'
  ) {
    throw new EksAuthTransportError(
      'invalid-response',
      'invalid response from server: credentials or assumed role empty',
    );
  }
  const arn = user.arn.split(':');
  if (arn.length < 6 || arn[0] !== 'arn') {
    throw new EksAuthTransportError(
      'invalid-response',
      `unable to parse arn from assumed role: ${arn[0] !== 'arn' ? 'arn: invalid prefix' : 'arn: not enough sections'}`,
    );
  }
  const expiresAtMs = Math.round(expiration * 1000);
  if (expiresAtMs > MAX_GO_TIME_MS) {
    throw new EksAuthTransportError('invalid-response', 'credentials expiration out of range');
  }
  return {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    expiresAtMs,
    accountId: arn[4] ?? '',
    assumedRoleArn: user.arn,
    associationId: typeof association?.associationId === 'string' ? association.associationId : '',
  };
}

/** 9999-12-31T23:59:59.999Z: Go cannot marshal a later time as RFC 3339. */
const MAX_GO_TIME_MS = 253_402_300_799_999;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function single(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function attemptOutcome(err: unknown): string {
  if (err instanceof EksAuthError) return err.code;
  if (err instanceof EksAuthTransportError) return err.kind;
  return 'error';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
