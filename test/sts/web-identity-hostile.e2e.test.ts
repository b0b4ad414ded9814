/**
 * AssumeRoleWithWebIdentity refuses hostile and wrong tokens with AWS's errors, and issues
 * nothing. (Success and trust-policy decisions are in web-identity.e2e.test.ts.)
 */
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterWithProvider, createIrsaRole, mintToken } from '../helpers/irsa.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let sts: STSClient;
let roleArn: string;
let issuer: string;

beforeAll(async () => {
  t = await startTestServer();
  sts = new STSClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const provider = await createClusterWithProvider(t.server.url, t.admin, 'dev');
  issuer = provider.issuer;
  await createClusterWithProvider(t.server.url, t.admin, 'other');
  roleArn = await createIrsaRole(
    t.server.url,
    t.admin,
    'reader',
    provider,
    'system:serviceaccount:default:reader',
  );
});
afterAll(async () => {
  await t.stop();
});

async function assume(token: string, extra: Record<string, unknown> = {}) {
  try {
    await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 's1',
        WebIdentityToken: token,
        ...extra,
      }),
    );
    return { name: 'ok', status: 200, message: '' };
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function credentialsIssued(): Promise<number> {
  const rows = await t.server.store.db
    .selectFrom('audit_events')
    .select('record')
    .where('event_name', '=', 'AssumeRoleWithWebIdentity')
    .execute();
  return rows.filter((r) => !(JSON.parse(r.record) as { errorCode?: string }).errorCode).length;
}

describe('AssumeRoleWithWebIdentity: hostile tokens', () => {
  it('alg none is InvalidIdentityToken', async () => {
    const real = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    const [, payload] = real.split('.');
    const r = await assume(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`);
    expect(r).toMatchObject({ name: 'InvalidIdentityTokenException', status: 400 });
  });

  it('HS256 signed with the issuer’s public key is InvalidIdentityToken', async () => {
    const jwks = (await (await fetch(`${issuer}/keys`)).json()) as {
      keys: Record<string, unknown>[];
    };
    const real = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    const [, payload] = real.split('.');
    const header = b64({ alg: 'HS256', kid: jwks.keys[0]?.kid });
    const { createHmac } = await import('node:crypto');
    const sig = createHmac('sha256', JSON.stringify(jwks.keys[0]))
      .update(`${header}.${payload}`)
      .digest('base64url');
    expect(await assume(`${header}.${payload}.${sig}`)).toMatchObject({
      name: 'InvalidIdentityTokenException',
      status: 400,
    });
  });

  it('an unknown kid, a foreign key and a tampered payload are refused', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'nope' })
      .setIssuer(issuer)
      .setSubject('system:serviceaccount:default:reader')
      .setAudience(['sts.amazonaws.com'])
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    expect((await assume(forged)).name).toBe('InvalidIdentityTokenException');
    const real = await mintToken(t.admin, 'dev', { namespace: 'default', serviceAccount: 'other' });
    const [h, , s] = real.split('.');
    const claims = JSON.parse(
      Buffer.from(real.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>;
    const tampered = `${h}.${b64({ ...claims, sub: 'system:serviceaccount:default:reader' })}.${s}`;
    expect((await assume(tampered)).name).toBe('InvalidIdentityTokenException');
  });

  it('a token of another cluster’s issuer is refused (its provider is in the account, the role does not trust it)', async () => {
    const other = await mintToken(t.admin, 'other', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    const r = await assume(other);
    expect(r.status).toBe(403);
    expect(r.name).toBe('AccessDenied');
  });

  it('audience pods.eks.amazonaws.com is Incorrect token audience', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
      audience: 'pods.eks.amazonaws.com',
    });
    expect(await assume(token)).toMatchObject({
      name: 'InvalidIdentityTokenException',
      message: 'Incorrect token audience',
    });
  });

  it('an issuer with no provider in the account is refused', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer('https://issuer.example.com')
      .setSubject('x')
      .setAudience('sts.amazonaws.com')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const r = await assume(token);
    expect(r).toMatchObject({ name: 'InvalidIdentityTokenException', status: 400 });
    expect(r.message).toBe(
      'No OpenIDConnect provider found in your account for https://issuer.example.com',
    );
  });

  it('request validation: token length, session name, duration, ProviderId', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    expect((await assume('abc')).name).toBe('ValidationError');
    expect((await assume('a'.repeat(20_001))).name).toBe('ValidationError');
    expect((await assume(token, { RoleSessionName: 'x' })).name).toBe('ValidationError');
    expect((await assume(token, { RoleSessionName: 'a/b' })).name).toBe('ValidationError');
    expect((await assume(token, { DurationSeconds: 899 })).name).toBe('ValidationError');
    expect((await assume(token, { ProviderId: 'www.amazon.com' })).status).toBe(400);
    expect((await assume(token, { Policy: 'x'.repeat(2049) })).name).toBe('ValidationError');
  });

  it('nothing was issued, and the raw tokens are not in the audit trail', async () => {
    expect(await credentialsIssued()).toBe(0);
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    await assume(token, { DurationSeconds: 899 });
    const rows = await t.server.store.db.selectFrom('audit_events').select('record').execute();
    expect(JSON.stringify(rows)).not.toContain(token.split('.')[2]);
  });
});
