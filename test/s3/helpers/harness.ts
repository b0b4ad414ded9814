/**
 * An S3 test bed: a real Latchkey server (IAM, STS and S3 on one endpoint, on a real SQLite file
 * or PostgreSQL) with SDK clients and the paths of its object files.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { S3Client } from '@aws-sdk/client-s3';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { createAccount } from '../../../src/iam/index.js';
import { loadMasterKey } from '../../../src/secrets/index.js';
import type { Database } from '../../../src/store/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

/** Credentials as the SDKs take them. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A running test bed. */
export interface S3TestBed {
  t: TestServer;
  /** The S3 endpoint (path-style). */
  s3Url: string;
  /** The IAM/STS endpoint. */
  iamUrl: string;
  db: Kysely<Database>;
  /** Where blobs and temporary files live. */
  objectsDir: string;
  /** Domain for virtual-hosted requests (`bucket.<domain>`). */
  virtualHostDomain: string;
  s3Client(credentials?: Credentials, extra?: Record<string, unknown>): S3Client;
  iam(credentials?: Credentials): IAMClient;
  sts(credentials: Credentials): STSClient;
  /** Creates another account; returns its admin's credentials. */
  createAccount(accountId: string): Promise<Credentials>;
  /** Environment for the AWS CLI and boto3, pointed at the S3 endpoint. */
  cliEnv(): NodeJS.ProcessEnv;
  /** Files under objects/tmp (left-overs of failed writes). */
  tempFiles(): string[];
  /** Count of blob files. */
  blobCount(): number;
  stop(): Promise<void>;
}

/** Starts a test bed. */
export async function startS3TestBed(options: { databaseUrl?: string } = {}): Promise<S3TestBed> {
  const virtualHostDomain = 's3.latchkey.test';
  const t = await startTestServer({ ...options, s3VirtualHostDomain: virtualHostDomain });
  const db = t.server.store.db;
  const masterKey = loadMasterKey(t.dataDir);
  const s3Url = t.server.url;
  const objectsDir = join(t.dataDir, 'objects');
  const clients: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(c: T): T => {
    clients.push(c);
    return c;
  };
  return {
    t,
    s3Url,
    iamUrl: t.server.url,
    db,
    objectsDir,
    virtualHostDomain,
    s3Client: (credentials = t.admin, extra = {}) =>
      track(
        new S3Client({
          endpoint: s3Url,
          region: 'us-east-1',
          credentials,
          forcePathStyle: true,
          maxAttempts: 1,
          ...extra,
        }),
      ),
    iam: (credentials = t.admin) =>
      track(
        new IAMClient({ endpoint: t.server.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
      ),
    sts: (credentials) =>
      track(
        new STSClient({ endpoint: t.server.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
      ),
    async createAccount(accountId) {
      const key = await createAccount(db, masterKey, accountId);
      return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    },
    cliEnv: () => ({ ...t.cliEnv(), AWS_DEFAULT_REGION: 'us-east-1' }),
    tempFiles: () => readdirSync(join(objectsDir, 'tmp')),
    blobCount: () => countFiles(join(objectsDir, 'blobs')),
    async stop() {
      for (const c of clients) c.destroy();
      await t.stop();
    },
  };
}

function countFiles(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    n += entry.isDirectory() ? countFiles(join(dir, entry.name)) : 1;
  }
  return n;
}

/** The error a failed SDK call rejected with: name, HTTP status and message. */
export async function errorOf(
  p: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string; raw: unknown }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode, raw: err };
  }
  throw new Error('expected the call to fail');
}
