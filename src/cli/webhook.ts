/**
 * `latchkey webhook`: the mutating admission webhook (IRSA and Pod Identity injection) as its
 * own process, with the flags of aws/amazon-eks-pod-identity-webhook where it has one.
 */
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { pino, type Logger } from 'pino';
import {
  CachedAssociationSource,
  containerCredentialsConfig,
  FileAssociationSource,
  startWebhook,
  webhookDnsNames,
  type ContainerCredentialsConfig,
  type PodIdentityAssociationSource,
  type ServiceAccountsOption,
  type TlsOption,
  type WebhookOptions,
  ServerAssociationSource,
} from '../webhook/index.js';
import { credentialsFromEnv, credentialsFromProfile } from '../agent/index.js';
import { DEFAULT_PROFILE } from '../profiles/index.js';
import { DEFAULT_DATA_DIR, parsePort } from './options.js';

/** What `--server URL` needs to build a Latchkey-backed association source. */
export interface ServerAssociationSourceOptions {
  /** The Latchkey server (`--server`). */
  server: URL;
  /** The cluster whose associations apply (`--cluster-name`). */
  clusterName: string | undefined;
  /** What associated service accounts get injected. */
  config: ContainerCredentialsConfig;
  logger: Logger;
}

/** Hooks the CLI wiring provides. */
export interface WebhookCommandDeps {
  /**
   * Builds the association source backed by the Latchkey server (EKS
   * `ListPodIdentityAssociations` on `--server`). The result is wrapped in a
   * `CachedAssociationSource`. Default: `ServerAssociationSource`, signed with the keys of
   * `--data-dir`/`--profile` or the environment.
   */
  serverAssociationSource?: (
    options: ServerAssociationSourceOptions,
  ) => PodIdentityAssociationSource;
}

/** Parsed `latchkey webhook` flags. */
export interface WebhookFlags {
  host: string;
  port: number;
  tlsCert?: string;
  tlsKey?: string;
  serviceName: string;
  namespace: string;
  tlsSan: string[];
  caBundleFile?: string;
  tlsMinVersion?: 'TLSv1.2' | 'TLSv1.3';
  tlsCipherSuites?: string;
  kubeconfig?: string;
  inCluster?: boolean;
  serviceAccounts?: string;
  watchConfigMap?: boolean;
  server?: URL;
  clusterName?: string;
  associationCacheTtl: number;
  watchContainerCredentialsConfig?: string;
  containerCredentialsAudience: string;
  containerCredentialsTokenMountPath: string;
  containerCredentialsTokenVolumeName: string;
  containerCredentialsTokenPath: string;
  containerCredentialsFullUri: string;
  region?: string;
  awsDefaultRegion?: string;
  injectEndpoint?: URL;
  annotationPrefix: string;
  tokenAudience: string;
  tokenMountPath: string;
  tokenExpiration: number;
  stsRegionalEndpoint?: boolean;
  composeRoleArn?: boolean;
  accountId: string;
  partition: string;
  serviceAccountLookupGracePeriod: number;
  maxRequestBytes: number;
  preserveUnknownFields?: boolean;
  enableDebuggingHandlers?: boolean;
  dataDir?: string;
  profile?: string;
  signingRegion?: string;
}

const GO_DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration (`100ms`, `1.5s`, `1m30s`, `0`) into milliseconds. */
export function parseGoDuration(value: string): number {
  if (value === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * (GO_DURATION_UNITS[m[2] ?? ''] ?? 0);
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== value.length) {
    throw new InvalidArgumentError('a duration looks like 100ms, 2s or 1m30s');
  }
  return total;
}

function parseUrl(value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new InvalidArgumentError('not a URL');
  }
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number');
  return Number(value);
}

function parseTlsVersion(value: string): 'TLSv1.2' | 'TLSv1.3' {
  if (value === '1.2' || value === 'VersionTLS12') return 'TLSv1.2';
  if (value === '1.3' || value === 'VersionTLS13') return 'TLSv1.3';
  throw new InvalidArgumentError('1.2 or 1.3 (older versions are not offered)');
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * The source `--server` uses unless the caller provides one: EKS `ListPodIdentityAssociations`
 * on the server, signed with `--data-dir`/`--profile` when given, else with
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`(/`AWS_SESSION_TOKEN`) when set (a Secret in a
 * cluster), else with the default profile of `./.latchkey`.
 */
function defaultServerAssociationSource(
  flags: WebhookFlags,
): NonNullable<WebhookCommandDeps['serverAssociationSource']> {
  const explicit = flags.dataDir !== undefined || flags.profile !== undefined;
  const identity =
    (explicit ? undefined : credentialsFromEnv()) ??
    credentialsFromProfile(flags.dataDir ?? DEFAULT_DATA_DIR, flags.profile ?? DEFAULT_PROFILE);
  const region = flags.signingRegion ?? process.env.AWS_REGION ?? identity.region ?? 'us-east-1';
  return (options) =>
    new ServerAssociationSource({
      server: options.server,
      clusterName: options.clusterName ?? '',
      config: options.config,
      credentials: identity.credentials,
      region,
    });
}

/** Turns flags into {@link WebhookOptions} (exported for tests). */
export async function webhookOptionsFromFlags(
  flags: WebhookFlags,
  deps: WebhookCommandDeps,
  logger: Logger,
): Promise<WebhookOptions> {
  const saSources = [flags.kubeconfig, flags.inCluster, flags.serviceAccounts].filter(
    (v) => v !== undefined,
  );
  if (saSources.length !== 1) {
    throw new Error(
      'give exactly one of --kubeconfig FILE, --in-cluster or --service-accounts FILE.yaml',
    );
  }
  if (flags.watchConfigMap && flags.serviceAccounts !== undefined) {
    throw new Error('--watch-config-map needs the Kubernetes API (--kubeconfig or --in-cluster)');
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new Error('give both --tls-cert and --tls-key, or neither to generate a certificate');
  }
  if (flags.server && flags.watchContainerCredentialsConfig) {
    throw new Error('give --server or --watch-container-credentials-config, not both');
  }

  let serviceAccounts: ServiceAccountsOption;
  if (flags.serviceAccounts !== undefined) {
    serviceAccounts = { file: flags.serviceAccounts };
  } else {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kubeConfig = new KubeConfig();
    if (flags.inCluster) kubeConfig.loadFromCluster();
    else kubeConfig.loadFromFile(flags.kubeconfig ?? '');
    serviceAccounts = {
      kubeConfig,
      ...(flags.watchConfigMap && { configMapNamespace: flags.namespace }),
    };
  }

  const tls: TlsOption =
    flags.tlsCert !== undefined && flags.tlsKey !== undefined
      ? { certFile: flags.tlsCert, keyFile: flags.tlsKey }
      : {
          generate: {
            dnsNames: [
              ...webhookDnsNames(flags.serviceName, flags.namespace),
              'localhost',
              ...flags.tlsSan.filter((n) => !/^[\d.]+$|:/.test(n)),
            ],
            ipAddresses: ['127.0.0.1', ...flags.tlsSan.filter((n) => /^[\d.]+$|:/.test(n))],
          },
        };

  const credentials = containerCredentialsConfig({
    audience: flags.containerCredentialsAudience,
    mountPath: flags.containerCredentialsTokenMountPath,
    volumeName: flags.containerCredentialsTokenVolumeName,
    tokenPath: flags.containerCredentialsTokenPath,
    fullUri: flags.containerCredentialsFullUri,
  });
  let associations: PodIdentityAssociationSource | undefined;
  if (flags.watchContainerCredentialsConfig !== undefined) {
    const file = new FileAssociationSource({
      path: flags.watchContainerCredentialsConfig,
      config: credentials,
      logger,
    });
    await file.start();
    associations = file;
  } else if (flags.server) {
    if (flags.clusterName === undefined) {
      throw new Error('--server needs --cluster-name: the cluster whose associations apply');
    }
    const factory = deps.serverAssociationSource ?? defaultServerAssociationSource(flags);
    associations = new CachedAssociationSource(
      factory({
        server: flags.server,
        clusterName: flags.clusterName,
        config: credentials,
        logger,
      }),
      { ttlMs: flags.associationCacheTtl, logger },
    );
  }

  const region = flags.region ?? flags.awsDefaultRegion;
  return {
    host: flags.host,
    port: flags.port,
    tls,
    serviceAccounts,
    ...(associations && { associations }),
    annotationDomain: flags.annotationPrefix,
    audience: flags.tokenAudience,
    mountPath: flags.tokenMountPath,
    tokenExpiration: flags.tokenExpiration,
    regionalSts: flags.stsRegionalEndpoint ?? false,
    ...(region !== undefined && { region }),
    ...(flags.injectEndpoint && {
      endpointUrl: flags.injectEndpoint.toString().replace(/\/$/, ''),
    }),
    ...(flags.composeRoleArn && {
      composeRoleArn: { accountId: flags.accountId, partition: flags.partition },
    }),
    serviceAccountLookupGraceMs: flags.serviceAccountLookupGracePeriod,
    maxRequestBytes: flags.maxRequestBytes,
    preserveUnknownFields: flags.preserveUnknownFields ?? false,
    enableDebuggingHandlers: flags.enableDebuggingHandlers ?? false,
    ...(flags.tlsMinVersion && { minTlsVersion: flags.tlsMinVersion }),
    ...(flags.tlsCipherSuites && { tlsCiphers: flags.tlsCipherSuites }),
    logger,
  };
}

/**
 * Registers `latchkey webhook`.
 *
 * @example
 * registerWebhookCommand(program); // --server uses ServerAssociationSource
 * registerWebhookCommand(program, { serverAssociationSource: () => new StaticAssociationSource() });
 */
export function registerWebhookCommand(program: Command, deps: WebhookCommandDeps = {}): void {
  program
    .command('webhook')
    .description(
      'Run the mutating admission webhook: inject IRSA and EKS Pod Identity credentials into pods (HTTPS, POST /mutate).',
    )
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--port <port>', 'port to listen on', parsePort, 8443)
    .option('--tls-cert <file>', 'serving certificate (PEM), reloaded when it changes')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option(
      '--service-name <name>',
      'Service name of the webhook (SANs of a generated certificate)',
      'latchkey-webhook',
    )
    .option(
      '--namespace <ns>',
      'namespace of the webhook (SANs; the ConfigMap with --watch-config-map)',
      'latchkey',
    )
    .option(
      '--tls-san <name>',
      'extra DNS name or IP of a generated certificate (repeatable)',
      collect,
      [],
    )
    .option(
      '--ca-bundle-file <file>',
      'also write the generated CA bundle (base64 PEM) to this file',
    )
    .option('--tls-min-version <version>', 'lowest TLS version: 1.2 or 1.3', parseTlsVersion)
    .option('--tls-cipher-suites <list>', 'OpenSSL cipher list for TLS 1.2')
    .option('--kubeconfig <file>', 'service accounts from the API server of this kubeconfig')
    .option('--in-cluster', 'service accounts from the API server, with the pod’s service account')
    .option(
      '--service-accounts <file>',
      'service accounts from a YAML file of ServiceAccount objects (watched)',
    )
    .option(
      '--watch-config-map',
      'also read service accounts from the pod-identity-webhook ConfigMap',
    )
    .option('--server <url>', 'Latchkey server to read pod identity associations from', parseUrl)
    .option(
      '--cluster-name <name>',
      'cluster whose pod identity associations apply (with --server)',
    )
    .option(
      '--data-dir <dir>',
      `sign --server calls with this data directory's profile (default: AWS_ACCESS_KEY_ID/… when set, else ${DEFAULT_DATA_DIR})`,
    )
    .option('--profile <name>', `profile to sign --server calls with (default ${DEFAULT_PROFILE})`)
    .option(
      '--signing-region <region>',
      'SigV4 region of --server calls (default: AWS_REGION, the profile’s, us-east-1)',
    )
    .option(
      '--association-cache-ttl <ms>',
      'how long association look-ups are reused',
      parseCount,
      10_000,
    )
    .option(
      '--watch-container-credentials-config <file>',
      'pod identity associations from a file (upstream format, watched)',
    )
    .option(
      '--container-credentials-audience <aud>',
      'audience of Pod Identity tokens',
      'pods.eks.amazonaws.com',
    )
    .option(
      '--container-credentials-token-mount-path <path>',
      'mount path of Pod Identity tokens',
      '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount',
    )
    .option(
      '--container-credentials-token-volume-name <name>',
      'volume of Pod Identity tokens',
      'eks-pod-identity-token',
    )
    .option(
      '--container-credentials-token-path <file>',
      'file name of Pod Identity tokens',
      'eks-pod-identity-token',
    )
    .option(
      '--container-credentials-full-uri <url>',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI (the node agent)',
      'http://169.254.170.23/v1/credentials',
    )
    .option('--region <region>', 'set AWS_REGION and AWS_DEFAULT_REGION in mutated containers')
    .option('--aws-default-region <region>', 'same as --region (upstream’s name)')
    .option(
      '--inject-endpoint <url>',
      'set AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL to this Latchkey URL',
      parseUrl,
    )
    .option('--annotation-prefix <domain>', 'annotation domain to read', 'eks.amazonaws.com')
    .option('--token-audience <aud>', 'default audience of IRSA tokens', 'sts.amazonaws.com')
    .option(
      '--token-mount-path <path>',
      'mount path of IRSA tokens',
      '/var/run/secrets/eks.amazonaws.com/serviceaccount',
    )
    .option(
      '--token-expiration <seconds>',
      'default token lifetime (600–86400)',
      parseCount,
      86_400,
    )
    .option(
      '--sts-regional-endpoint',
      'set AWS_STS_REGIONAL_ENDPOINTS=regional unless annotated otherwise',
    )
    .option('--compose-role-arn', 'a role-arn annotation may be a bare role name, in --account-id')
    .option('--account-id <id>', 'account of composed role ARNs', '000000000000')
    .option('--partition <partition>', 'partition of composed role ARNs', 'aws')
    .option(
      '--service-account-lookup-grace-period <duration>',
      'wait this long for a service account not yet cached (0 disables)',
      parseGoDuration,
      100,
    )
    .option(
      '--max-request-bytes <n>',
      'largest AdmissionReview accepted',
      parseCount,
      3 * 1024 * 1024,
    )
    .option(
      '--preserve-unknown-fields',
      'keep container fields newer than the webhook’s schema in patches',
    )
    .option('--enable-debugging-handlers', 'serve GET /debug/alpha/cache')
    .action(async (flags: WebhookFlags) => {
      const logger = pino({ level: process.env.LATCHKEY_LOG_LEVEL ?? 'info' });
      const webhook = await startWebhook(await webhookOptionsFromFlags(flags, deps, logger));
      if (webhook.caBundle !== undefined) {
        if (flags.caBundleFile) await writeFile(flags.caBundleFile, `${webhook.caBundle}\n`);
        console.log(`caBundle: ${webhook.caBundle}`);
      }
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void webhook.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
