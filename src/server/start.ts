import { pino, type Logger } from 'pino';
import { accessApiRoutes, type AccessSources } from '../access/index.js';
import {
  AuditTrail,
  createCloudTrailService,
  DiscardingAuditTrail,
  JsonlExporter,
  SqliteRowWriter,
} from '../audit/index.js';
import type { CredentialResolver } from '../auth/index.js';
import {
  AssociationDirectory,
  ClusterDirectory,
  createEksAuthService,
  createEksRestService,
  ISSUER_PATH_PREFIX,
  ServiceAccountDirectory,
} from '../eks/index.js';
import {
  AccessKeyDirectory,
  createAccount,
  createIamQueryService,
  DEFAULT_ACCOUNT_ID,
  listAccounts,
  ManagedPolicyDirectory,
  OidcProviderDirectory,
  PolicyAuthorizer,
  PolicySetLoader,
  PrincipalPolicies,
  RoleDirectory,
  UserDirectory,
  type PolicyValidator,
} from '../iam/index.js';
import {
  discoveryDocument,
  IssuerKeys,
  jwksDocument,
  RemoteKeySets,
  type RemoteKeySetOptions,
} from '../oidc/index.js';
import { profileName, updateEndpoint, writeProfile } from '../profiles/index.js';
import { loadMasterKey } from '../secrets/index.js';
import {
  LiveKeyring,
  SealingKeyStore,
  SessionCredentialResolver,
  SessionRevocations,
} from '../sessions/index.js';
import { bindCaches, openClusterSync } from '../cluster-sync/index.js';
import { createConsole } from '../console/index.js';
import { AwsError, isAwsError } from '../errors/index.js';
import { RequestThrottle, type RequestLimit } from '../throttle/index.js';
import { parsePolicy } from '../policy/index.js';
import { BucketPolicyReader, createS3Service } from '../s3/index.js';
import { lockDataDir, openStore, type Store } from '../store/index.js';
import { createStsQueryService, type TrustEvaluator } from '../sts/index.js';
import { buildApp } from './app.js';
import { IssuerRegistry } from './issuers.js';
import { sealingKeyRoutes } from './sealing-key-api.js';
import { createLatchkeyApi } from './latchkey-api.js';

/** How to run a server. */
export interface ServerOptions {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string | undefined;
  region?: string | undefined;
  /** Days audit records are kept (default 90). */
  auditRetentionDays?: number | undefined;
  /** A directory to also write audit records to, as rotating JSONL files for a SIEM. */
  auditExportDir?: string | undefined;
  /** The URL clients and issuers' relying parties reach this server at (default: its listening URL). */
  publicUrl?: string | undefined;
  /** S3 virtual-hosted style: with `s3.example.test`, `<bucket>.s3.example.test` is a bucket. */
  s3VirtualHostDomain?: string | undefined;
  logger?: Logger | undefined;
  /** Per-account request limit of every service (per replica); unlimited when unset. */
  requestLimit?: RequestLimit | undefined;
  /**
   * How external issuers' JWKS are fetched (`latchkey cluster register` without a JWKS file):
   * `ca` adds trusted CAs; `allowLoopback` (tests, a dev issuer on 127.0.0.1) permits loopback;
   * `cooldownMs` spaces refetches for unknown key ids (default 30 s).
   */
  remoteIssuers?: Pick<RemoteKeySetOptions, 'allowLoopback' | 'ca' | 'cooldownMs'> | undefined;
  /**
   * Benchmarks only (not exposed in the CLI): `false` serves S3 without authorization of signed
   * callers (authentication still applies), to measure what authorization costs.
   */
  s3Authorization?: boolean | undefined;
  /**
   * Benchmarks only (not exposed in the CLI): `false` replaces the audit trail with one that
   * records nothing, to measure what auditing costs.
   */
  audit?: boolean | undefined;
}

/** A running server. */
export interface RunningServer {
  /** The endpoint clients use, e.g. `http://127.0.0.1:4599`. */
  url: string;
  store: Store;
  close(): Promise<void>;
  /**
   * A one-time sign-in link to the web console for the first account's admin (good once, for
   * ten minutes; see src/console), or undefined when that admin has no active access key.
   */
  consoleSignInUrl(): Promise<string | undefined>;
  /**
   * Starts sealing session tokens with a new key; the other replicas learn of it through the
   * cluster sync (or the first token naming it), and the old key opens tokens for the overlap.
   */
  rotateSealingKey(): Promise<void>;
}

/**
 * Starts Latchkey: opens the store (running migrations), creates the first account on a data
 * directory's first start, listens, and writes the AWS CLI profile.
 *
 * @example
 * const server = await startServer({ host: '127.0.0.1', port: 4599, dataDir: '.latchkey' });
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: process.env.LATCHKEY_LOG_LEVEL ?? 'info' });
  const region = options.region ?? 'us-east-1';
  // The embedded store allows one server per data directory (replicas share PostgreSQL).
  const lock = options.databaseUrl === undefined ? lockDataDir(options.dataDir) : undefined;
  const masterKey = loadMasterKey(options.dataDir);
  const store = await openStore({
    dataDir: options.dataDir,
    databaseUrl: options.databaseUrl,
  }).catch((err: unknown) => {
    lock?.release();
    throw err;
  });
  const sync = await openClusterSync({ databaseUrl: options.databaseUrl, db: store.db, logger });
  try {
    let publicUrl = options.publicUrl?.replace(/\/+$/, '') ?? '';
    const users = new UserDirectory(store.db);
    const accessKeys = new AccessKeyDirectory(store.db, masterKey);
    // Other replicas hear of rotations, revocations and IAM changes through `sync`.
    const keyring = await LiveKeyring.open(new SealingKeyStore(store.db, masterKey), () => {
      void sync.publish('sealing-keys');
    });
    const revocations = new SessionRevocations(store.db, (scope) => {
      void sync.publish('revocations', scope);
    });
    const sessions = new SessionCredentialResolver(
      () => keyring.get(),
      revocations,
      (kid) => keyring.knows(kid),
    );
    const resolver: CredentialResolver = {
      resolve: (accessKeyId, token) =>
        accessKeyId.startsWith('ASIA')
          ? sessions.resolve(accessKeyId, token)
          : accessKeys.resolve(accessKeyId),
    };
    const roles = new RoleDirectory(store.db);
    const policies = new ManagedPolicyDirectory(store.db);
    const principalPolicies = new PrincipalPolicies(store.db);
    const loader = new PolicySetLoader(roles, policies, principalPolicies);
    const authorizer = new PolicyAuthorizer(loader);
    bindCaches(sync, { policies: authorizer, accessKeys, revocations, keyring }, logger);
    const evaluateTrust: TrustEvaluator = (question) => authorizer.evaluateTrust(question);
    const issuerKeys = new IssuerKeys(store.db, masterKey);
    const providers = new OidcProviderDirectory(store.db);
    const clusters = new ClusterDirectory(
      store.db,
      issuerKeys,
      region,
      () => publicUrl,
      new RemoteKeySets(options.remoteIssuers ?? {}),
    );
    const associations = new AssociationDirectory(store.db, region);
    const issuers = new IssuerRegistry(providers, clusters, () => publicUrl);

    // The first account exists before the first request can arrive.
    const firstKey =
      (await listAccounts(store.db)).length === 0
        ? await createAccount(store.db, masterKey, DEFAULT_ACCOUNT_ID).catch((err: unknown) => {
            // Another replica starting on the same empty database created it first.
            if (isAwsError(err, 'EntityAlreadyExists')) return undefined;
            throw err;
          })
        : undefined;

    const trail =
      options.audit === false
        ? new DiscardingAuditTrail(store.db, logger)
        : new AuditTrail(store.db, logger, {
            exporter: options.auditExportDir
              ? new JsonlExporter(options.auditExportDir)
              : undefined,
            // SQLite: a connection of its own, whose fsync runs off the event loop.
            writer: store.sqliteFile ? new SqliteRowWriter(store.sqliteFile) : undefined,
          });
    const retentionDays = options.auditRetentionDays ?? 90;
    const pruned = await trail.prune(retentionDays);
    if (pruned > 0) logger.info({ pruned, retentionDays }, 'audit records past retention deleted');
    const pruneTimer = setInterval(() => {
      trail
        .prune(retentionDays)
        .catch((err: unknown) => logger.error({ err }, 'audit pruning failed'));
    }, 3_600_000);
    pruneTimer.unref();

    const throttle = options.requestLimit && new RequestThrottle(options.requestLimit);
    const s3 = createS3Service({
      db: store.db,
      dataDir: options.dataDir,
      resolver,
      authorizer,
      trail,
      region,
      logger,
      sync,
      virtualHostDomain: options.s3VirtualHostDomain,
      authorize: options.s3Authorization !== false,
      ...(throttle && {
        admit: (accountId: string) => {
          if (!throttle.admit(accountId, 's3')) throw new AwsError('Throttling', 'Rate exceeded');
        },
      }),
    });
    await s3.ready();

    const serviceAccountDirectory = new ServiceAccountDirectory(store.db);
    const accessSources: AccessSources = {
      clusters,
      serviceAccounts: serviceAccountDirectory,
      associations,
      roles,
      providers,
      principalPolicies,
      policies,
      users,
      buckets: new BucketPolicyReader(store.db),
    };
    const latchkeyConsole = createConsole({
      masterKey,
      resolver,
      authorizer,
      trail,
      db: store.db,
      access: accessSources,
      accessKeys,
      region,
      logger,
    });

    const app = buildApp({
      console: latchkeyConsole,
      logger,
      throttle,
      resolver,
      trail,
      region,
      s3,
      virtualHostDomain: options.s3VirtualHostDomain,
      queryServices: [
        createIamQueryService({
          users,
          accessKeys,
          authorizer,
          providers,
          roles,
          policies,
          principalPolicies,
          validatePolicy,
          loader,
          onChange: () => {
            authorizer.invalidate();
            void sync.publish('iam');
          },
          isOwnIssuer: (url) =>
            publicUrl !== '' && url.startsWith(`${publicUrl}${ISSUER_PATH_PREFIX}`),
        }),
        createStsQueryService({
          roles,
          evaluateTrust,
          validatePolicy,
          keyring: () => keyring.get(),
          findIssuer: (accountId, iss) => issuers.find(accountId, iss),
        }),
      ],
      restServices: [
        createEksRestService({
          clusters,
          associations,
          roles,
          authorizer,
          region,
          onAssociationChanged: async (id) => {
            await revocations.revoke(`association:${id}`);
          },
        }),
        createEksAuthService({
          clusters,
          associations,
          roles,
          issuerKeys,
          authorizer,
          evaluateTrust,
          keyring: () => keyring.get(),
        }),
        createCloudTrailService({ db: store.db, authorizer }),
        createLatchkeyApi({
          db: store.db,
          masterKey,
          clusters,
          issuerKeys,
          authorizer,
          revocations,
          serviceAccounts: serviceAccountDirectory,
          extraRoutes: [
            ...accessApiRoutes({ sources: accessSources, authorizer }),
            ...sealingKeyRoutes({ authorizer, rotate: () => keyring.rotate() }),
          ],
          onAccountCreated: (accountId) => {
            logger.info({ accountId }, 'account created');
            void sync.publish('iam');
          },
        }),
      ],
      async issuer(issuerId) {
        const cluster = await clusters.findByIssuerId(issuerId);
        if (cluster === undefined) return undefined;
        const keys = await issuerKeys.publishedKeys(issuerId);
        const algorithms = [...new Set(keys.map((k) => k.alg ?? 'RS256'))];
        return {
          discovery: discoveryDocument(cluster.issuerUrl, algorithms),
          jwks: jwksDocument(keys),
        };
      },
    });
    await app.listen({ host: options.host, port: options.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    const url = `http://${clientHost(options.host)}:${port}`;
    if (publicUrl === '') publicUrl = url;

    if (firstKey !== undefined) {
      writeProfile(options.dataDir, {
        name: profileName(DEFAULT_ACCOUNT_ID),
        endpointUrl: url,
        region,
        accessKeyId: firstKey.accessKeyId,
        secretAccessKey: firstKey.secretAccessKey,
      });
      logger.info(
        { accountId: DEFAULT_ACCOUNT_ID },
        'first start: account and admin profile created',
      );
    } else {
      updateEndpoint(options.dataDir, url);
    }
    logger.info({ url, engine: store.engine }, 'Latchkey is serving');

    return {
      url,
      store,
      consoleSignInUrl: () => latchkeyConsole.signInLink(url, DEFAULT_ACCOUNT_ID),
      async close() {
        clearInterval(pruneTimer);
        // In-flight requests get a grace period; a client that stalls mid-body does not hold
        // the shutdown.
        const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
        await app.close();
        clearTimeout(force);
        await trail.close();
        keyring.close();
        await sync.close();
        await store.close();
        lock?.release();
      },
      rotateSealingKey: async () => {
        await keyring.rotate();
      },
    };
  } catch (err) {
    await sync.close();
    await store.close();
    lock?.release();
    throw err;
  }
}

/** How long `close()` waits for in-flight requests before cutting their connections. */
const CLOSE_GRACE_MS = 2_000;

/** The address a client on this machine reaches a listener on. */
function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Policy documents are checked by the engine's grammar and AWS's size limits before they are stored. */
const validatePolicy: PolicyValidator = (document, kind) => {
  parsePolicy(document, { kind });
};
