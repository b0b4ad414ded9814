/**
 * The audit trail through real clients: every call leaves a CloudTrail record, secrets never
 * do, `aws cloudtrail lookup-events` reads it, and a store that cannot be written stops
 * state-changing calls.
 */
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAwsCli, startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

let t: TestServer;
let config: {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
};
let secret = '';
let bobKeyId = '';

const exportDir = tempDir();

beforeAll(async () => {
  t = await startTestServer({ auditExportDir: exportDir.path });
  config = { endpoint: t.server.url, region: 'us-east-1', credentials: t.admin, maxAttempts: 1 };
  const iam = new IAMClient(config);
  await iam.send(new CreateUserCommand({ UserName: 'bob' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
  secret = AccessKey?.SecretAccessKey ?? '';
  bobKeyId = AccessKey?.AccessKeyId ?? '';
  // bob is not an administrator: this is denied.
  const bob = new IAMClient({
    ...config,
    credentials: { accessKeyId: bobKeyId, secretAccessKey: secret },
  });
  await bob.send(new CreateUserCommand({ UserName: 'eve' })).catch(() => undefined);
  await new STSClient(config).send(new GetCallerIdentityCommand({}));
});
afterAll(async () => {
  await t.stop();
  exportDir.remove();
});

async function records(): Promise<Record<string, unknown>[]> {
  const rows = await t.server.store.db.selectFrom('audit_events').select('record').execute();
  return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>);
}

describe('audit trail', () => {
  it('records a state change with the caller, parameters and response, secrets hidden', async () => {
    const all = await records();
    const created = all.find((r) => r.eventName === 'CreateAccessKey');
    expect(created).toMatchObject({
      eventVersion: '1.09',
      eventSource: 'iam.amazonaws.com',
      eventType: 'AwsApiCall',
      managementEvent: true,
      readOnly: false,
      recipientAccountId: '000000000000',
      requestParameters: { userName: 'bob' },
      userIdentity: {
        type: 'IAMUser',
        arn: 'arn:aws:iam::000000000000:user/admin',
        accountId: '000000000000',
        userName: 'admin',
        accessKeyId: t.admin.accessKeyId,
      },
      responseElements: {
        accessKey: { accessKeyId: bobKeyId, secretAccessKey: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      },
    });
    // A version-7 UUID (RFC 9562) whose first 48 bits are the record's time.
    expect(created?.eventID).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const eventId = String(created?.eventID);
    const idTime = parseInt(eventId.slice(0, 8) + eventId.slice(9, 13), 16);
    expect(idTime - Date.parse(String(created?.eventTime))).toBeGreaterThanOrEqual(0);
    expect(idTime - Date.parse(String(created?.eventTime))).toBeLessThan(1000);
    expect(created?.userAgent).toContain('aws-sdk-js');
    expect(created?.sourceIPAddress).toBe('127.0.0.1');
  });

  it('never stores a secret key anywhere in the trail', async () => {
    const rows = await t.server.store.db.selectFrom('audit_events').selectAll().execute();
    const text = JSON.stringify(rows);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(t.admin.secretAccessKey);
  });

  it('records denials with the error and the denied caller', async () => {
    const denied = (await records()).find((r) => r.errorCode === 'AccessDenied');
    expect(denied).toMatchObject({
      eventName: 'CreateUser',
      userIdentity: { arn: 'arn:aws:iam::000000000000:user/bob' },
      errorMessage: expect.stringContaining('is not authorized to perform: iam:CreateUser'),
    });
  });

  it('LookupEvents (SDK) filters by attribute and pages', async () => {
    const trail = new CloudTrailClient(config);
    // Read-only records are written without making the call wait (within 100 ms).
    const lookup = () =>
      trail.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GetCallerIdentity' }],
        }),
      );
    let byName = await lookup();
    for (let i = 0; i < 40 && byName.Events?.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      byName = await lookup();
    }
    expect(byName.Events?.length).toBe(1);
    expect(byName.Events?.[0]).toMatchObject({
      EventName: 'GetCallerIdentity',
      ReadOnly: 'true',
      Username: 'admin',
    });
    expect(byName.Events?.[0]?.EventTime).toBeInstanceOf(Date);
    const first = await trail.send(new LookupEventsCommand({ MaxResults: 2 }));
    expect(first.Events).toHaveLength(2);
    const second = await trail.send(
      new LookupEventsCommand({ MaxResults: 2, NextToken: first.NextToken }),
    );
    expect(second.Events?.[0]?.EventId).not.toBe(first.Events?.[0]?.EventId);
    const byUser = await trail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'bob' }],
      }),
    );
    expect(byUser.Events?.map((e) => e.EventName)).toEqual(['CreateUser']);
  });

  it('LookupEvents bad input: AWS’s CloudTrail errors', async () => {
    const trail = new CloudTrailClient(config);
    const errorOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { name: string }) => e.name,
      );
    expect(
      await errorOf(
        trail.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'Nope' as never, AttributeValue: 'x' }],
          }),
        ),
      ),
    ).toBe('InvalidLookupAttributesException');
    expect(
      await errorOf(
        trail.send(
          new LookupEventsCommand({
            StartTime: new Date(2_000_000_000_000),
            EndTime: new Date(1_000_000_000_000),
          }),
        ),
      ),
    ).toBe('InvalidTimeRangeException');
    expect(await errorOf(trail.send(new LookupEventsCommand({ NextToken: 'garbage' })))).toBe(
      'InvalidNextTokenException',
    );
    expect(await errorOf(trail.send(new LookupEventsCommand({ MaxResults: 51 })))).toBe(
      'InvalidMaxResultsException',
    );
    const first = await trail.send(new LookupEventsCommand({ MaxResults: 1 }));
    // A token is bound to the query that made it.
    expect(
      await errorOf(
        trail.send(
          new LookupEventsCommand({
            MaxResults: 1,
            NextToken: first.NextToken,
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }],
          }),
        ),
      ),
    ).toBe('InvalidNextTokenException');
  });

  it('aws cloudtrail lookup-events works', async () => {
    const r = await runAwsCli(
      [
        'cloudtrail',
        'lookup-events',
        '--lookup-attributes',
        'AttributeKey=EventName,AttributeValue=CreateUser',
      ],
      t.cliEnv(),
    );
    expect(r.code).toBe(0);
    const events = JSON.parse(r.stdout).Events as { EventName: string; CloudTrailEvent: string }[];
    expect(events.length).toBe(2);
    expect(JSON.parse(events[0]?.CloudTrailEvent ?? '{}').eventSource).toBe('iam.amazonaws.com');
  });
});

describe('export and CLI', () => {
  it('appends every record to a JSONL file for a SIEM, secrets hidden', async () => {
    const files = readdirSync(exportDir.path);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^audit-\d{8}-1\.jsonl$/);
    const lines = readFileSync(join(exportDir.path, files[0] ?? ''), 'utf8')
      .trim()
      .split('\n');
    const names = lines.map((l) => (JSON.parse(l) as { eventName: string }).eventName);
    expect(names).toContain('CreateAccessKey');
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('latchkey audit --denied shows the denial in plain words', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const entry = join(import.meta.dirname, '../helpers/latchkey.ts');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      entry,
      'audit',
      '--denied',
      '--data-dir',
      t.dataDir,
    ]);
    expect(stdout).toContain('DENIED AccessDenied');
    expect(stdout).toContain('iam:CreateUser');
    expect(stdout).toContain('arn:aws:iam::000000000000:user/bob');
    expect(stdout).not.toContain('GetCallerIdentity');
  });
});

describe('fail-closed', () => {
  it('when records cannot be written, state changes are refused with 503 and nothing changes', async () => {
    const { sql } = await import('kysely');
    // Make every audit write fail, as a full or read-only audit store would.
    await sql`CREATE TRIGGER audit_full BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`.execute(
      t.server.store.db,
    );
    try {
      const iam = new IAMClient(config);
      const err = await iam.send(new CreateUserCommand({ UserName: 'ghost' })).then(
        () => undefined,
        (e: { name: string; $metadata: { httpStatusCode?: number } }) => e,
      );
      expect(err?.$metadata.httpStatusCode).toBe(503);
      expect(err?.name).toBe('ServiceUnavailable');
      const users = await t.server.store.db.selectFrom('iam_users').select('user_name').execute();
      expect(users.map((u) => u.user_name)).not.toContain('ghost');
      // Credentials are not issued either.
      const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' })).then(
        () => 'issued',
        (e: { $metadata: { httpStatusCode?: number } }) => e.$metadata.httpStatusCode,
      );
      expect(key).toBe(503);
      const keys = await t.server.store.db
        .selectFrom('access_keys')
        .select('access_key_id')
        .where('user_name', '=', 'bob')
        .execute();
      expect(keys).toHaveLength(1);
    } finally {
      await sql`DROP TRIGGER audit_full`.execute(t.server.store.db);
    }
    // Recovery without a restart.
    await new IAMClient(config).send(new CreateUserCommand({ UserName: 'after' }));
  });

  it('keeps the records of read-only calls made while the store cannot be written, and writes them once it can', async () => {
    const { sql } = await import('kysely');
    const db = t.server.store.db;
    const recordsFrom = async (userAgent: string) =>
      db
        .selectFrom('audit_events')
        .select('event_id')
        .where('event_name', '=', 'GetCallerIdentity')
        .where('record', 'like', `%${userAgent}%`)
        .execute();
    const sts = new STSClient(config);
    await sql`CREATE TRIGGER audit_full BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`.execute(
      db,
    );
    const marker = 'outage-reader/1.0';
    try {
      // Read-only calls are answered: they change nothing, and their records wait.
      const reader = new STSClient({ ...config, customUserAgent: marker });
      for (let i = 0; i < 3; i++) await reader.send(new GetCallerIdentityCommand({}));
      await new Promise((r) => setTimeout(r, 300));
      expect(await recordsFrom(marker)).toHaveLength(0);
    } finally {
      await sql`DROP TRIGGER audit_full`.execute(db);
    }
    // Kept records are written on the next attempt (within a second or two), none lost.
    let written = 0;
    for (let i = 0; i < 40 && written < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      written = (await recordsFrom(marker)).length;
    }
    expect(written).toBe(3);
    await sts.send(new GetCallerIdentityCommand({}));
  });
});
