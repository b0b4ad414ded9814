/**
 * Pod identity associations from a Latchkey server (or any EKS API endpoint): EKS
 * `ListPodIdentityAssociations` filtered by namespace and service account, signed with SigV4 as
 * service `eks`. Wrap it in `CachedAssociationSource` (the CLI does), which caches answers,
 * shares concurrent look-ups and keeps the last answer while the server is unreachable.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { WebhookError } from '../errors.js';
import type { ContainerCredentialsConfig, PodIdentityAssociationSource } from './source.js';

/** Keys the webhook signs its EKS calls with. */
export interface AssociationSigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** Options of {@link ServerAssociationSource}. */
export interface ServerAssociationSourceOptions {
  /** The Latchkey server (EKS endpoint), e.g. `http://latchkey.latchkey.svc:4599`. */
  server: URL;
  /** The cluster whose associations apply. */
  clusterName: string;
  /** What an associated service account's pods get. */
  config: ContainerCredentialsConfig;
  /** Keys to sign with, or a function returning the current ones. */
  credentials: AssociationSigningCredentials | (() => Promise<AssociationSigningCredentials>);
  /** Region of the SigV4 scope (default `us-east-1`). */
  region?: string;
  /** Time limit of one call, ms (default 2000; the cache in front bounds the pod's wait). */
  timeoutMs?: number;
}

/** Largest answer read: one association is about 500 bytes. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * Asks the server whether `namespace/serviceAccount` has an association. Rejects with a
 * `WebhookError` (`ERR_WEBHOOK_SOURCE`) when the server cannot answer: network, timeout, an
 * error status (an unknown cluster, refused credentials) or an unreadable body.
 *
 * @example
 * const source = new CachedAssociationSource(
 *   new ServerAssociationSource({ server: new URL('http://127.0.0.1:4599'), clusterName: 'dev', config, credentials }),
 * );
 */
export class ServerAssociationSource implements PodIdentityAssociationSource {
  readonly #options: ServerAssociationSourceOptions;
  readonly #base: URL;

  constructor(options: ServerAssociationSourceOptions) {
    if (options.server.protocol !== 'http:' && options.server.protocol !== 'https:') {
      throw new WebhookError(
        'ERR_WEBHOOK_CONFIG',
        `--server ${options.server.href} is not http(s)`,
      );
    }
    this.#options = options;
    this.#base = new URL(
      `${options.server.pathname.replace(/\/+$/, '')}/clusters/${encodeURIComponent(options.clusterName)}/pod-identity-associations`,
      options.server,
    );
  }

  async lookup(
    namespace: string,
    serviceAccount: string,
  ): Promise<ContainerCredentialsConfig | undefined> {
    const url = new URL(this.#base);
    url.searchParams.set('namespace', namespace);
    url.searchParams.set('serviceAccount', serviceAccount);
    url.searchParams.set('maxResults', '1');
    const body = await this.#get(url);
    const associations = (body as { associations?: unknown }).associations;
    if (!Array.isArray(associations)) {
      throw new WebhookError(
        'ERR_WEBHOOK_SOURCE',
        `ListPodIdentityAssociations at ${this.#options.server.origin}: no associations list in the answer`,
      );
    }
    return associations.length > 0 ? this.#options.config : undefined;
  }

  async #get(url: URL): Promise<unknown> {
    const credentials =
      typeof this.#options.credentials === 'function'
        ? await this.#options.credentials()
        : this.#options.credentials;
    const signer = new SignatureV4({
      service: 'eks',
      region: this.#options.region ?? 'us-east-1',
      sha256: Sha256,
      credentials,
    });
    const signed = await signer.sign({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host },
    });
    const where = `ListPodIdentityAssociations at ${this.#options.server.origin}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: signed.headers,
        redirect: 'error',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 2000),
      });
    } catch (err) {
      throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where} failed: ${reason(err)}`, {
        cause: err,
      });
    }
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES) {
      throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where}: answer larger than 256 KiB`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where}: HTTP ${response.status}, not JSON`);
    }
    if (response.status !== 200) {
      const error = json as { __type?: unknown; message?: unknown };
      throw new WebhookError(
        'ERR_WEBHOOK_SOURCE',
        `${where}: HTTP ${response.status} ${String(error.__type ?? '')}: ${String(error.message ?? '')}`,
      );
    }
    if (typeof json !== 'object' || json === null) {
      throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where}: the answer is not a JSON object`);
    }
    return json;
  }
}

function reason(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (err.name === 'TimeoutError') return 'timed out';
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
