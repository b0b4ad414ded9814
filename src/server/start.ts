import { pino, type Logger } from 'pino';
import { AwsError } from '../errors/index.js';
import {
  AccessKeyDirectory,
  ADMINISTRATOR_ACCESS_ARN,
  createAccount,
  createAdministratorAuthorizer,
  createIamQueryService,
  DEFAULT_ACCOUNT_ID,
  listAccounts,
  UserDirectory,
} from '../iam/index.js';
import { profileName, updateEndpoint, writeProfile } from '../profiles/index.js';
import { loadMasterKey } from '../secrets/index.js';
import { openStore, type Store } from '../store/index.js';
import { createStsQueryService } from '../sts/index.js';
import { buildApp, type LatchkeyApi } from './app.js';

/** How to run a server. */
export interface ServerOptions {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string | undefined;
  region?: string | undefined;
  logger?: Logger | undefined;
}

/** A running server. */
export interface RunningServer {
  /** The endpoint clients use, e.g. `http://127.0.0.1:4599`. */
  url: string;
  store: Store;
  close(): Promise<void>;
}

/**
 * Starts Latchkey: opens the store (running migrations), creates the first account and its
 * AWS CLI profile on a data directory's first start, and listens.
 *
 * @example
 * const server = await startServer({ host: '127.0.0.1', port: 4599, dataDir: '.latchkey' });
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: process.env.LATCHKEY_LOG_LEVEL ?? 'info' });
  const region = options.region ?? 'us-east-1';
  const masterKey = loadMasterKey(options.dataDir);
  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  try {
    const users = new UserDirectory(store.db);
    const accessKeys = new AccessKeyDirectory(store.db, masterKey);
    const authorizer = createAdministratorAuthorizer(users);

    const api: LatchkeyApi = {
      async createAccount(caller, accountId) {
        const admins = caller.userName
          ? await users.attachedPolicyArns(caller.accountId, caller.userName)
          : [];
        if (caller.accountId !== DEFAULT_ACCOUNT_ID || !admins.includes(ADMINISTRATOR_ACCESS_ARN)) {
          throw new AwsError(
            'AccessDenied',
            `User: ${caller.arn} is not authorized to create accounts: only administrators of account ${DEFAULT_ACCOUNT_ID} may`,
          );
        }
        const key = await createAccount(store.db, masterKey, accountId);
        logger.info({ accountId }, 'account created');
        return { accountId, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
      },
    };

    // The first account exists before the first request can arrive.
    const firstKey =
      (await listAccounts(store.db)).length === 0
        ? await createAccount(store.db, masterKey, DEFAULT_ACCOUNT_ID)
        : undefined;

    const app = buildApp({
      logger,
      resolver: accessKeys,
      queryServices: [
        createIamQueryService({ users, accessKeys, authorizer }),
        createStsQueryService(),
      ],
      api,
    });
    await app.listen({ host: options.host, port: options.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    const url = `http://${clientHost(options.host)}:${port}`;

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
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The address a client on this machine reaches a listener on. */
function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
