/**
 * Hostile and malformed requests at the edge: each gets AWS's error and status, nothing is
 * written, and the server keeps serving.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAnswer, presignQuery, send, signQuery } from '../helpers/sign.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let usersBefore: number;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

async function userCount(): Promise<number> {
  const rows = await t.server.store.db.selectFrom('iam_users').select('user_name').execute();
  return rows.length;
}

beforeEach(async () => {
  usersBefore = await userCount();
});

async function expectStillServing(): Promise<void> {
  expect(await userCount()).toBe(usersBefore);
  const ok = await send(
    await signQuery({
      endpoint: t.server.url,
      service: 'sts',
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      credentials: t.admin,
    }),
  );
  expect(ok.status).toBe(200);
}

const createUser = 'Action=CreateUser&Version=2010-05-08&UserName=intruder';

describe('bad input at the edge', () => {
  it('a malformed Authorization header is IncompleteSignature (400)', async () => {
    const res = await fetch(t.server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-amz-date': '20260101T000000Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=garbage',
      },
      body: createUser,
    });
    const answer = await parseAnswer(res);
    expect(answer.status).toBe(400);
    expect(answer.code).toBe('IncompleteSignature');
    await expectStillServing();
  });

  it('no authentication at all is MissingAuthenticationToken (403)', async () => {
    const res = await fetch(t.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: createUser,
    });
    const answer = await parseAnswer(res);
    expect(answer).toMatchObject({ status: 403, code: 'MissingAuthenticationToken' });
    await expectStillServing();
  });

  it('an unknown access key is InvalidClientTokenId (403)', async () => {
    const answer = await send(
      await signQuery({
        endpoint: t.server.url,
        service: 'iam',
        body: createUser,
        credentials: {
          accessKeyId: 'AKIAAAAAAAAAAAAAAAAA',
          secretAccessKey: t.admin.secretAccessKey,
        },
      }),
    );
    expect(answer).toMatchObject({ status: 403, code: 'InvalidClientTokenId' });
    await expectStillServing();
  });

  it('a wrong secret is SignatureDoesNotMatch (403)', async () => {
    const answer = await send(
      await signQuery({
        endpoint: t.server.url,
        service: 'iam',
        body: createUser,
        credentials: { accessKeyId: t.admin.accessKeyId, secretAccessKey: 'y'.repeat(40) },
      }),
    );
    expect(answer).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    await expectStillServing();
  });

  it('a body altered after signing is SignatureDoesNotMatch', async () => {
    const req = await signQuery({
      endpoint: t.server.url,
      service: 'iam',
      body: createUser,
      credentials: t.admin,
    });
    const answer = await send({ ...req, body: createUser.replace('intruder', 'intrudex') });
    expect(answer).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    await expectStillServing();
  });

  it('a request signed 6 minutes ago is refused; 4 minutes ago is accepted', async () => {
    const old = await send(
      await signQuery({
        endpoint: t.server.url,
        service: 'iam',
        body: createUser,
        credentials: t.admin,
        signingDate: new Date(Date.now() - 6 * 60_000),
      }),
    );
    expect(old.status).toBe(403);
    expect(old.code).toBe('SignatureDoesNotMatch');
    expect(old.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    await expectStillServing();
    const future = await send(
      await signQuery({
        endpoint: t.server.url,
        service: 'iam',
        body: createUser,
        credentials: t.admin,
        signingDate: new Date(Date.now() + 6 * 60_000),
      }),
    );
    expect(future.status).toBe(403);
    await expectStillServing();
    const recent = await send(
      await signQuery({
        endpoint: t.server.url,
        service: 'sts',
        body: 'Action=GetCallerIdentity&Version=2011-06-15',
        credentials: t.admin,
        signingDate: new Date(Date.now() - 4 * 60_000),
      }),
    );
    expect(recent.status).toBe(200);
  });

  it('a missing X-Amz-Date is refused', async () => {
    const req = await signQuery({
      endpoint: t.server.url,
      service: 'iam',
      body: createUser,
      credentials: t.admin,
    });
    const headers = { ...req.headers };
    delete headers['x-amz-date'];
    const answer = await send({ ...req, headers });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect([
      'IncompleteSignature',
      'MissingAuthenticationToken',
      'SignatureDoesNotMatch',
    ]).toContain(answer.code);
    await expectStillServing();
  });

  it('a presigned URL works until it expires, then it is refused', async () => {
    const url = await presignQuery({
      endpoint: t.server.url,
      service: 'sts',
      params: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      credentials: t.admin,
      expiresIn: 60,
    });
    expect((await fetch(url)).status).toBe(200);
    const expired = await presignQuery({
      endpoint: t.server.url,
      service: 'iam',
      params: { Action: 'CreateUser', Version: '2010-05-08', UserName: 'intruder' },
      credentials: t.admin,
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });
    const answer = await parseAnswer(await fetch(expired));
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    await expectStillServing();
  });

  it('a body over the size limit is refused with 413 and nothing is read into a write', async () => {
    const big = createUser + '&Padding=' + 'a'.repeat(1024 * 1024 + 10);
    const req = await signQuery({
      endpoint: t.server.url,
      service: 'iam',
      body: big,
      credentials: t.admin,
    });
    const answer = await send(req);
    expect(answer).toMatchObject({ status: 413, code: 'RequestEntityTooLarge' });
    await expectStillServing();
  });

  it('an unknown Action is InvalidAction (400)', async () => {
    const answer = await send(
      await signQuery({
        endpoint: t.server.url,
        service: 'iam',
        body: 'Action=CreateUniverse&Version=2010-05-08',
        credentials: t.admin,
      }),
    );
    expect(answer).toMatchObject({
      status: 400,
      code: 'InvalidAction',
      message: 'Could not find operation CreateUniverse for version 2010-05-08',
    });
    expect(answer.body).toContain('xmlns="https://iam.amazonaws.com/doc/2010-05-08/"');
    await expectStillServing();
  });

  it('healthz answers 200', async () => {
    const res = await fetch(`${t.server.url}/_latchkey/healthz`);
    expect(res.status).toBe(200);
  });
});
