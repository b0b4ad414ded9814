/** The server on PostgreSQL: the same calls work, and a second server on the same database sees them. */
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestServer;
let second: RunningServer;
const secondDir = tempDir();

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ databaseUrl: db.url });
  // A replica: same database and master key, its own data directory.
  const { readFileSync } = await import('node:fs');
  process.env.LATCHKEY_MASTER_KEY = readFileSync(`${t.dataDir}/master.key`, 'utf8').trim();
  second = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: secondDir.path,
    databaseUrl: db.url,
    logger: pino({ level: 'silent' }),
  });
  delete process.env.LATCHKEY_MASTER_KEY;
});
afterAll(async () => {
  await second.close();
  await t.stop();
  secondDir.remove();
  await db.drop();
});

describe('on PostgreSQL', () => {
  it('serves IAM and STS, and a replica accepts the keys the first one made', async () => {
    const config = {
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: t.admin,
      maxAttempts: 1,
    };
    const iam = new IAMClient(config);
    await iam.send(new CreateUserCommand({ UserName: 'pg-user' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'pg-user' }));
    const sts = new STSClient({
      endpoint: second.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: AccessKey?.AccessKeyId ?? '',
        secretAccessKey: AccessKey?.SecretAccessKey ?? '',
      },
    });
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Arn).toBe('arn:aws:iam::000000000000:user/pg-user');
    expect(second.store.engine).toBe('postgres');
  });
});
