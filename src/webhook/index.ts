/**
 * Latchkey's mutating admission webhook: injects IRSA (web identity) and EKS Pod Identity
 * (container credentials) settings into pods, with the annotations, flags and JSON patches of
 * aws/amazon-eks-pod-identity-webhook. See docs/webhook.md.
 *
 * @example
 * const webhook = await startWebhook({
 *   port: 8443,
 *   serviceAccounts: { file: './service-accounts.yaml' },
 *   tls: { generate: { dnsNames: webhookDnsNames('latchkey-webhook', 'latchkey') } },
 * });
 * console.log(webhook.caBundle); // for the MutatingWebhookConfiguration
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { clampTokenExpiration } from './annotations.js';
import { DEFAULT_AUDIENCE, DEFAULT_ANNOTATION_DOMAIN, TokenExpiration } from './constants.js';
import type { PodIdentityAssociationSource } from './container-credentials/source.js';
import { errorMessage } from './errors.js';
import type { FileWatch } from './file-watch.js';
import { WebhookMetrics } from './metrics.js';
import { PodMutator, type PodMutatorOptions } from './mutate-pod.js';
import { boundPort, closeServer, createWebhookServer } from './server.js';
import { ServiceAccountCache } from './service-accounts/cache.js';
import type { ComposeRoleArn } from './service-accounts/entry.js';
import { FileServiceAccountSource } from './service-accounts/file-source.js';
import type { ServiceAccountSource } from './service-accounts/source.js';
import {
  generateSelfSignedCertificate,
  readTlsFiles,
  watchTlsFiles,
  type GenerateCertificateOptions,
  type TlsMaterial,
} from './tls.js';

export { answerAdmissionReview, parseAdmissionReview, type AdmissionAnswer } from './admission.js';
export * from './constants.js';
export {
  CachedAssociationSource,
  type CachedAssociationSourceOptions,
} from './container-credentials/cached-source.js';
export {
  ServerAssociationSource,
  type AssociationSigningCredentials,
  type ServerAssociationSourceOptions,
} from './container-credentials/server-source.js';
export {
  FileAssociationSource,
  parseAssociationsFile,
} from './container-credentials/file-source.js';
export {
  containerCredentialsConfig,
  StaticAssociationSource,
  type ContainerCredentialsConfig,
  type PodIdentityAssociationSource,
} from './container-credentials/source.js';
export { isWebhookError, WebhookError, type WebhookErrorCode } from './errors.js';
export { WebhookMetrics, type MutationMethod } from './metrics.js';
export { PodMutator, type MutationOutcome, type PodMutatorOptions } from './mutate-pod.js';
export type { PatchOperation } from './patch.js';
export { decodePod, type DecodedPod } from './pod.js';
export { ServiceAccountCache, type ServiceAccountLookup } from './service-accounts/cache.js';
export type { ComposeRoleArn, ServiceAccountEntry } from './service-accounts/entry.js';
export {
  FileServiceAccountSource,
  parseServiceAccountsYaml,
} from './service-accounts/file-source.js';
export type { ServiceAccountSource } from './service-accounts/source.js';
export {
  generateSelfSignedCertificate,
  webhookDnsNames,
  type GeneratedCertificate,
  type TlsMaterial,
} from './tls.js';

/** Where service accounts come from. */
export type ServiceAccountsOption =
  /** A YAML file of ServiceAccount objects, watched. */
  | { file: string }
  /** The Kubernetes API through an informer; `configMapNamespace` also watches the ConfigMap. */
  | { kubeConfig: KubeConfig; configMapNamespace?: string; fetchOnMiss?: boolean }
  /** A cache the caller fills (embedding, tests). */
  | { cache: ServiceAccountCache };

/** Where the serving certificate comes from. */
export type TlsOption =
  /** Files, reloaded on change. */
  | { certFile: string; keyFile: string }
  /** Generated at start (self-signed CA + serving certificate). */
  | { generate: GenerateCertificateOptions }
  /** Given in memory. */
  | { material: TlsMaterial };

/** Options of {@link startWebhook}. */
export interface WebhookOptions extends Omit<
  PodMutatorOptions,
  'serviceAccounts' | 'metrics' | 'logger' | 'associations'
> {
  /** Address to listen on (default `0.0.0.0`). */
  host?: string;
  /** Port (default 8443; 0 picks a free one). */
  port?: number;
  tls: TlsOption;
  serviceAccounts: ServiceAccountsOption;
  /**
   * Pod identity associations (default: none). Closed with the webhook. A lookup that rejects
   * fails the review (500, then the configuration's failurePolicy applies); wrap remote
   * sources in `CachedAssociationSource`, which never rejects.
   */
  associations?: PodIdentityAssociationSource;
  /** `--token-audience` (default `sts.amazonaws.com`). */
  audience?: string;
  /** `--token-expiration` in seconds (default 86400; clamped to [600, 86400]). */
  tokenExpiration?: number;
  /** `--sts-regional-endpoint` (default false). */
  regionalSts?: boolean;
  /** `--compose-role-arn`: bare role names in `role-arn` annotations become ARNs here. */
  composeRoleArn?: ComposeRoleArn;
  /** Largest AdmissionReview accepted, in bytes. */
  maxRequestBytes?: number;
  /** `--enable-debugging-handlers`: serve `/debug/alpha/cache`. */
  enableDebuggingHandlers?: boolean;
  minTlsVersion?: 'TLSv1.2' | 'TLSv1.3';
  tlsCiphers?: string;
  logger?: Logger;
}

/** A running webhook. */
export interface RunningWebhook {
  /** `https://host:port`. */
  url: string;
  port: number;
  /** Base64 PEM of the CA, when the certificate was generated. */
  caBundle?: string;
  /** The serving certificate in use (PEM). */
  readonly tls: TlsMaterial;
  cache: ServiceAccountCache;
  metrics: WebhookMetrics;
  /** Replaces the serving certificate without a restart. */
  setTls(material: TlsMaterial): void;
  /** Stops listening, watching and informing. */
  close(): Promise<void>;
}

async function createServiceAccountSource(
  option: ServiceAccountsOption,
  cache: ServiceAccountCache,
  logger: Logger,
): Promise<ServiceAccountSource | undefined> {
  if ('cache' in option) return undefined;
  if ('file' in option) return new FileServiceAccountSource({ path: option.file, cache, logger });
  // Loaded only when used: the Kubernetes client is large.
  const { InformerServiceAccountSource } = await import('./service-accounts/informer-source.js');
  return new InformerServiceAccountSource({
    kubeConfig: option.kubeConfig,
    cache,
    logger,
    ...(option.configMapNamespace !== undefined && {
      configMapNamespace: option.configMapNamespace,
    }),
    ...(option.fetchOnMiss !== undefined && { fetchOnMiss: option.fetchOnMiss }),
  });
}

/**
 * Starts the webhook: loads service accounts (file or informer), prepares TLS, and listens.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_TLS` or `ERR_WEBHOOK_SOURCE` when a file is unusable.
 */
export async function startWebhook(options: WebhookOptions): Promise<RunningWebhook> {
  const logger = options.logger ?? pino({ level: process.env.LATCHKEY_LOG_LEVEL ?? 'info' });
  const metrics = new WebhookMetrics();
  const cache =
    'cache' in options.serviceAccounts
      ? options.serviceAccounts.cache
      : new ServiceAccountCache({
          defaults: {
            annotationDomain: options.annotationDomain ?? DEFAULT_ANNOTATION_DOMAIN,
            audience: options.audience ?? DEFAULT_AUDIENCE,
            regionalSts: options.regionalSts ?? false,
            tokenExpiration: clampTokenExpiration(
              options.tokenExpiration ?? TokenExpiration.default,
            ),
            ...(options.composeRoleArn && { composeRoleArn: options.composeRoleArn }),
          },
          logger,
          onServiceAccount: () => metrics.markUsed(),
        });

  let tls: TlsMaterial;
  let caBundle: string | undefined;
  let tlsWatch: FileWatch | undefined;
  if ('material' in options.tls) {
    tls = options.tls.material;
  } else if ('generate' in options.tls) {
    const generated = await generateSelfSignedCertificate(options.tls.generate);
    tls = generated;
    caBundle = generated.caBundle;
  } else {
    tls = await readTlsFiles(options.tls.certFile, options.tls.keyFile);
  }

  const source = await createServiceAccountSource(options.serviceAccounts, cache, logger);
  await source?.start();

  const mutator = new PodMutator({
    ...options,
    serviceAccounts: cache,
    metrics,
    logger,
    ...(options.associations && { associations: options.associations }),
  });
  const server = createWebhookServer({
    tls,
    mutator,
    metrics,
    logger,
    ready: () => source?.synced ?? true,
    ...(options.maxRequestBytes !== undefined && { maxRequestBytes: options.maxRequestBytes }),
    ...(options.enableDebuggingHandlers && { debugCache: () => cache.toJSON() }),
    ...(options.minTlsVersion && { minVersion: options.minTlsVersion }),
    ...(options.tlsCiphers && { ciphers: options.tlsCiphers }),
  });
  const setTls = (material: TlsMaterial) => {
    server.setSecureContext({
      cert: material.cert,
      key: material.key,
      ...(options.minTlsVersion && { minVersion: options.minTlsVersion }),
      ...(options.tlsCiphers && { ciphers: options.tlsCiphers }),
    });
    tls = material;
  };
  if ('certFile' in options.tls) {
    tlsWatch = watchTlsFiles(options.tls.certFile, options.tls.keyFile, setTls, logger);
  }

  const host = options.host ?? '0.0.0.0';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8443, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    tlsWatch?.close();
    await source?.close();
    await options.associations?.close?.();
    throw err;
  }
  server.on('error', (err) => logger.error({ err: errorMessage(err) }, 'webhook server error'));
  const port = boundPort(server);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `https://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  logger.info({ url, serviceAccounts: cache.size }, 'webhook listening');

  return {
    url,
    port,
    ...(caBundle !== undefined && { caBundle }),
    get tls() {
      return tls;
    },
    cache,
    metrics,
    setTls,
    async close() {
      tlsWatch?.close();
      await source?.close();
      await options.associations?.close?.();
      await closeServer(server);
    },
  };
}
