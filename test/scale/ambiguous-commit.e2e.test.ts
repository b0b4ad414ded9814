/**
 * A PutObject whose COMMIT reaches PostgreSQL while the connection dies before the answer: the
 * client is told 503, yet the row was committed. The new blob must then be kept (the row names
 * it), not deleted as after a failed write, or the object would answer 500 from then on.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A TCP proxy to PostgreSQL that, once armed, forwards the first COMMIT after an insert into
 * `s3_objects` and then cuts both sides before PostgreSQL's answer comes back.
 */
function commitCuttingProxy(target: URL): { server: Server; arm(): void; close(): void } {
  let armed = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    let sawInsert = false;
    let cut = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
    }
    client.on('data', (data: Buffer) => {
      const text = data.toString('latin1');
      if (text.includes('into "s3_objects"')) sawInsert = true;
      upstream.write(data);
      // A simple-query message: 'Q', a length, then the SQL text.
      if (armed && sawInsert && /Q....commit\0/s.test(text)) {
        armed = false;
        cut = true;
        setTimeout(() => {
          client.destroy();
          upstream.destroy();
        }, 100);
      }
    });
    upstream.on('data', (data: Buffer) => {
      if (!cut) client.write(data);
    });
  });
  return {
    server,
    arm: () => (armed = true),
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let server: RunningServer | undefined;
let proxy: ReturnType<typeof commitCuttingProxy> | undefined;
const dir = tempDir();

afterAll(async () => {
  await server?.close();
  proxy?.close();
  await db?.drop();
  dir.remove();
});

it('keeps the object of a PutObject whose COMMIT succeeded though its answer was lost', async () => {
  db = await createTestDatabase();
  const target = new URL(db.url);
  proxy = commitCuttingProxy(target);
  await new Promise<void>((resolve) => proxy!.server.listen(0, '127.0.0.1', resolve));
  const viaProxy = new URL(db.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String((proxy.server.address() as { port: number }).port);
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir.path,
    databaseUrl: viaProxy.toString(),
    logger: pino({ level: 'silent' }),
  });
  const admin = readProfile(dir.path, 'latchkey') as Profile;
  const s3 = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: admin,
    maxAttempts: 1,
    forcePathStyle: true,
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'ambiguous' }));
  proxy.arm();
  const put = await s3
    .send(new PutObjectCommand({ Bucket: 'ambiguous', Key: 'k', Body: 'hello' }))
    .then(
      () => 'acknowledged',
      (err: { name: string; $metadata?: { httpStatusCode?: number } }) =>
        `${err.name} ${err.$metadata?.httpStatusCode}`,
    );
  expect(put).toBe('ServiceUnavailable 503');
  // The row was committed: the object is there, whole, and stays so after the blob is settled.
  for (const wait of [0, 1_500]) {
    await new Promise((r) => setTimeout(r, wait));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'ambiguous', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('hello');
  }
  s3.destroy();
});
