/**
 * An external issuer's JWKS endpoint goes down (a real cluster's API server, reached over
 * HTTPS). Tokens keep being exchanged at STS with the keys Latchkey cached; a server that has no
 * keys cached answers `IDPCommunicationError` (the SDK's IDPCommunicationErrorException), promptly; when the issuer is
 * back, exchanges work again without a restart.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { generateSelfSignedCertificate } from '../../src/webhook/index.js';
import { createIrsaRole } from '../helpers/irsa.js';
import { tempDir } from '../helpers/tmp.js';
import { runLatchkey } from './helpers/child-server.js';

const dir = tempDir();
let server: RunningServer;
let admin: Profile;
let caCert: string;
let tls: { cert: string; key: string };
let idp: Server | undefined;
// IAM refuses provider URLs with a port (as AWS does), so the issuer listens on 443 of a loopback
// address of its own.
const idpHost = `127.${50 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
let issuer = '';
let roleArn = '';
const idpSockets = new Set<Socket>();
let signing: { kid: string; privateKey: CryptoKey; jwk: JWK };

async function idpUp(): Promise<void> {
  const s = createServer(tls, (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/cluster/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }));
    } else if (req.url === '/cluster/keys') {
      res.end(JSON.stringify({ keys: [signing.jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  s.on('connection', (sock: Socket) => {
    idpSockets.add(sock);
    sock.on('close', () => idpSockets.delete(sock));
  });
  await new Promise<void>((resolve) => s.listen(443, idpHost, resolve));
  idp = s;
}

async function idpDown(): Promise<void> {
  const s = idp;
  idp = undefined;
  for (const sock of idpSockets) sock.destroy();
  if (s) await new Promise((resolve) => s.close(resolve));
}

const start = () =>
  startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir.path,
    logger: pino({ level: 'silent' }),
    remoteIssuers: { allowLoopback: true, ca: caCert },
  });

function token(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: signing.kid })
    .setIssuer(issuer)
    .setSubject('system:serviceaccount:default:app')
    .setAudience(['sts.amazonaws.com'])
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 3600)
    .setJti(randomUUID())
    .sign(signing.privateKey);
}

/** Exchanges a fresh token; 'ok' or the error's name, and how long it took. */
async function exchange(): Promise<{ result: string; status?: number; ms: number }> {
  const sts = new STSClient({
    endpoint: server.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
  });
  const t0 = performance.now();
  try {
    await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'app',
        WebIdentityToken: await token(),
      }),
    );
    return { result: 'ok', ms: performance.now() - t0 };
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return {
      result: e.name,
      ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}),
      ms: performance.now() - t0,
    };
  }
}

beforeAll(async () => {
  const cert = await generateSelfSignedCertificate({
    dnsNames: ['localhost'],
    ipAddresses: [idpHost],
  });
  tls = { cert: cert.cert, key: cert.key };
  caCert = cert.caCert;
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  signing = { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256' } };
  await idpUp();
  issuer = `https://${idpHost}/cluster`;
  server = await start();
  admin = readProfile(dir.path, 'latchkey') as Profile;
  // As a user does it: register the cluster (Latchkey fetches its JWKS once), then trust its
  // issuer in IAM.
  const registered = await runLatchkey([
    'cluster',
    'register',
    'real',
    '--issuer',
    issuer,
    '--data-dir',
    dir.path,
  ]);
  if (registered.code !== 0) throw new Error(registered.stderr);
  const associated = await runLatchkey([
    'utils',
    'associate-iam-oidc-provider',
    '--cluster',
    'real',
    '--json',
    '--data-dir',
    dir.path,
  ]);
  if (associated.code !== 0) throw new Error(associated.stderr);
  const providerArn = (JSON.parse(associated.stdout) as { providerArn: string }).providerArn;
  roleArn = await createIrsaRole(
    server.url,
    admin,
    'irsa-app',
    { providerArn, providerUrl: providerArn.split(':oidc-provider/')[1] ?? '' },
    'system:serviceaccount:default:app',
  );
});
afterAll(async () => {
  await server.close();
  await idpDown();
  dir.remove();
});

describe("an external issuer's JWKS endpoint down", () => {
  it('cached keys keep working; without them IDPCommunicationError; then recovery', async () => {
    expect((await exchange()).result).toBe('ok');
    await idpDown();
    // Cached keys: the issuer is not needed.
    for (let i = 0; i < 3; i++) expect((await exchange()).result).toBe('ok');

    // A restarted server has nothing cached: a clear, prompt IDPCommunicationError.
    await server.close();
    server = await start();
    const failed = await exchange();
    expect(failed).toMatchObject({ result: 'IDPCommunicationErrorException', status: 400 });
    expect(failed.ms).toBeLessThan(6_000);
    // Repeated attempts while it is down fail fast (no fetch per request).
    const again = await exchange();
    expect(again.result).toBe('IDPCommunicationErrorException');
    expect(again.ms).toBeLessThan(500);

    // The issuer comes back: exchanges work again without restarting Latchkey (after the
    // failed fetch's back-off, at most a few seconds).
    await idpUp();
    const t0 = performance.now();
    let result = '';
    while (performance.now() - t0 < 10_000) {
      result = (await exchange()).result;
      if (result === 'ok') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(result).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(7_000);
  });
});
