/**
 * Latchkey in a benchmark's child process (so the client's CPU and memory are not counted
 * against the server). Run as `node --import tsx bench/latchkey-child.ts '<ChildOptions JSON>'`;
 * prints `url: <endpoint>` once it serves, and closes on SIGTERM.
 */
import { pino } from 'pino';
import { DEFAULT_ACCOUNT_ID, OidcProviderDirectory, RoleDirectory } from '../src/iam/index.js';
import { startServer } from '../src/server/index.js';

/** What the parent asks for. */
export interface ChildOptions {
  dataDir: string;
  /** `false`: S3 without authorization (ServerOptions.s3Authorization). */
  s3Authorization?: boolean;
  /** `false`: a trail that records nothing (ServerOptions.audit). */
  audit?: boolean;
  /** Roles to add to the first account before serving (names `filler-N`). */
  fillerRoles?: number;
  /** OIDC providers to add to the first account (IAM allows 100 per account). */
  fillerProviders?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  dataDir: options.dataDir,
  logger: pino({ level: 'warn' }),
  s3Authorization: options.s3Authorization,
  audit: options.audit,
});

const filler = options.fillerRoles ?? 0;
if (filler > 0) {
  // In one transaction per 1,000 (one fsync each), straight into the store: through the API
  // each CreateRole would commit on its own.
  for (let start = 0; start < filler; start += 1000) {
    await server.store.db.transaction().execute(async (trx) => {
      const roles = new RoleDirectory(trx);
      for (let i = start; i < Math.min(filler, start + 1000); i++) {
        await roles.create(DEFAULT_ACCOUNT_ID, {
          roleName: `filler-${i}`,
          path: '/',
          trustPolicy: fillerTrust(i),
          maxSessionDuration: 3600,
          tags: {},
        });
      }
    });
  }
}

const providers = new OidcProviderDirectory(server.store.db);
for (let i = 0; i < (options.fillerProviders ?? 0); i++) {
  await providers.create(DEFAULT_ACCOUNT_ID, {
    scheme: 'https',
    url: `oidc.example.test/id/${i}`,
    clientIds: ['sts.amazonaws.com'],
    thumbprints: [],
    tags: {},
  });
}

console.log(`url: ${server.url}`);
process.on('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

/** A web-identity trust policy like the benchmark role's, for another service account. */
function fillerTrust(i: number): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: {
          Federated: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:oidc-provider/oidc.example.test/id/${i}`,
        },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`oidc.example.test/id/${i}:sub`]: `system:serviceaccount:bench:sa-${i}`,
            [`oidc.example.test/id/${i}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  });
}
