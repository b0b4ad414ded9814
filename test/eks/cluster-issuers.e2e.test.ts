/**
 * External clusters and issuer key rotation, as a user runs them: `latchkey cluster register`
 * (an issuer served over HTTPS, or a JWKS file for an issuer Latchkey cannot reach) and
 * `latchkey keys rotate`, through the CLI against a real server; tokens signed like a real
 * kube-apiserver's are exchanged at STS AssumeRoleWithWebIdentity with the AWS SDK v3 and at EKS
 * Auth AssumeRoleForPodIdentity.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import {
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { generateSelfSignedCertificate } from '../../src/webhook/index.js';
import { createIrsaRole, mintToken } from '../helpers/irsa.js';
import { runLatchkey, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** A signing key of a simulated real cluster (what its kube-apiserver signs with). */
interface ClusterKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function clusterKey(): Promise<ClusterKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  return {
    kid,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

/** A token with the claims kube-apiserver puts in a projected service-account token. */
function clusterToken(
  key: ClusterKey,
  issuer: string,
  sa: string,
  audience = 'sts.amazonaws.com',
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    'kubernetes.io': {
      namespace: 'default',
      pod: { name: 'web-0', uid: randomUUID() },
      serviceaccount: { name: sa, uid: randomUUID() },
    },
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(issuer)
    .setSubject(`system:serviceaccount:default:${sa}`)
    .setAudience([audience])
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 3600)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

function latchkey(args: string[]): Promise<CliResult> {
  return runLatchkey(dir.path, args, { timeoutMs: 60_000 });
}

const dir = tempDir();
let server: RunningServer;
let admin: Profile;
let idp: Server;
let idpIssuer: string;
const idpKeys: ClusterKey[] = [];
let sts: STSClient;

beforeAll(async () => {
  // The "real cluster's" issuer: HTTPS on 127.0.0.1 with a private CA, discovery and JWKS at
  // the paths kube-apiserver and EKS serve.
  // IAM refuses provider URLs with a port, as AWS does: the issuer listens on 443, on an
  // address of its own in 127/8 so it collides with nothing else on this machine.
  const address = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  const cert = await generateSelfSignedCertificate({
    dnsNames: ['localhost'],
    ipAddresses: [address],
  });
  idpKeys.push(await clusterKey());
  idp = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    const path = req.url ?? '';
    if (path === '/id/EXAMPLE/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: idpIssuer, jwks_uri: `${idpIssuer}/keys` }));
    } else if (path === '/id/EXAMPLE/keys') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: idpKeys.map((k) => k.jwk) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    idp.once('error', reject);
    idp.listen(443, address, resolve);
  });
  idpIssuer = `https://${address}/id/EXAMPLE`;

  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir.path,
    logger: pino({ level: 'silent' }),
    remoteIssuers: { allowLoopback: true, ca: cert.caCert, cooldownMs: 1_000 },
  });
  const profile = readProfile(dir.path, 'latchkey');
  if (profile === undefined) throw new Error('no profile');
  admin = profile;
  sts = new STSClient({
    endpoint: server.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
});

afterAll(async () => {
  await server.close();
  await new Promise((resolve) => idp.close(resolve));
  dir.remove();
});

async function clusterNames(): Promise<string[]> {
  const r = await signedJsonRequest(admin, 'GET', '/clusters', undefined, 'eks');
  return r.json.clusters as string[];
}

/** Associates the cluster's issuer with IAM and makes a role for default/SA; returns its ARN. */
async function irsaRole(cluster: string, role: string, sa: string): Promise<string> {
  const associated = await latchkey([
    'utils',
    'associate-iam-oidc-provider',
    '--cluster',
    cluster,
    '--json',
  ]);
  expect(associated.stderr).toBe('');
  const providerArn = (JSON.parse(associated.stdout) as { providerArn: string }).providerArn;
  const providerUrl = providerArn.split(':oidc-provider/')[1] ?? '';
  return createIrsaRole(
    server.url,
    admin,
    role,
    { providerArn, providerUrl },
    `system:serviceaccount:default:${sa}`,
  );
}

async function assume(roleArn: string, token: string) {
  return sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'test',
      WebIdentityToken: token,
    }),
  );
}

describe('cluster register: an issuer fetched over HTTPS', () => {
  let roleArn: string;

  it('registers the cluster after fetching its JWKS, and DescribeCluster shows the issuer', async () => {
    const r = await latchkey(['cluster', 'register', 'real', '--issuer', idpIssuer]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Cluster real registered: arn:aws:eks:us-east-1:000000000000:cluster/real',
    );
    expect(r.stdout).toContain('fetched from the issuer');
    const described = await signedJsonRequest(admin, 'GET', '/clusters/real', undefined, 'eks');
    expect(described.json.cluster).toMatchObject({ identity: { oidc: { issuer: idpIssuer } } });
  });

  it('STS accepts the cluster’s tokens for a role that trusts the service account (SDK v3)', async () => {
    roleArn = await irsaRole('real', 'real-reader', 'reader');
    const out = await assume(
      roleArn,
      await clusterToken(idpKeys[0] as ClusterKey, idpIssuer, 'reader'),
    );
    expect(out.SubjectFromWebIdentityToken).toBe('system:serviceaccount:default:reader');
    expect(out.Provider).toBe(idpIssuer);
    const who = await new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: out.Credentials?.AccessKeyId ?? '',
        secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
        sessionToken: out.Credentials?.SessionToken ?? '',
      },
    }).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe('arn:aws:sts::000000000000:assumed-role/real-reader/test');
  });

  it('refuses another service account’s token, and a token signed by a key the issuer does not publish', async () => {
    await expect(
      assume(roleArn, await clusterToken(idpKeys[0] as ClusterKey, idpIssuer, 'writer')),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    const stranger = await clusterKey();
    await expect(
      assume(roleArn, await clusterToken(stranger, idpIssuer, 'reader')),
    ).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
  });

  it('a key the issuer starts publishing later is found (rotation at the real cluster)', async () => {
    const next = await clusterKey();
    idpKeys.push(next);
    // An unknown kid refetches the JWKS at most once per cooldown (1 s here, 30 s by default).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const out = await assume(roleArn, await clusterToken(next, idpIssuer, 'reader'));
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
  });

  it('Pod Identity works for the external cluster too (EKS Auth verifies with the same keys)', async () => {
    const config = {
      endpoint: server.url,
      region: 'us-east-1',
      credentials: admin,
      maxAttempts: 1,
    };
    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        },
      ],
    };
    const { Role } = await new IAMClient(config).send(
      new CreateRoleCommand({
        RoleName: 'real-pod',
        AssumeRolePolicyDocument: JSON.stringify(trust),
      }),
    );
    await new EKSClient(config).send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'real',
        namespace: 'default',
        serviceAccount: 'pod',
        roleArn: Role?.Arn ?? '',
      }),
    );
    const token = await clusterToken(
      idpKeys[0] as ClusterKey,
      idpIssuer,
      'pod',
      'pods.eks.amazonaws.com',
    );
    const r = await signedJsonRequest(
      admin,
      'POST',
      '/clusters/real/assume-role-for-pod-identity',
      { token },
      'eks-auth',
    );
    expect(r.status).toBe(200);
    expect(r.json.assumedRoleUser).toMatchObject({
      arn: expect.stringContaining('assumed-role/real-pod/') as unknown,
    });
  });

  it('keys rotate refuses an external cluster: its issuer holds its keys', async () => {
    const r = await latchkey(['keys', 'rotate', '--cluster', 'real']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidRequestException');
    expect(r.stderr).toContain('is external');
  });
});

describe('cluster register --jwks-file: an issuer Latchkey cannot reach (kind, k3s)', () => {
  const issuer = 'https://kubernetes.default.svc.cluster.local';
  let key: ClusterKey;
  let roleArn: string;
  let jwksFile: string;

  beforeAll(async () => {
    key = await clusterKey();
    jwksFile = join(dir.path, 'kind-jwks.json');
    // As `kubectl get --raw /openid/v1/jwks` prints it.
    writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk] }));
  });

  it('registers with the pinned keys, without contacting the issuer', async () => {
    const r = await latchkey([
      'cluster',
      'register',
      '--name',
      'kind',
      '--issuer',
      issuer,
      '--jwks-file',
      jwksFile,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Cluster kind registered');
    expect(r.stdout).toContain(`kid ${key.kid}`);
  });

  it('STS accepts tokens signed by a pinned key, and refuses others', async () => {
    roleArn = await irsaRole('kind', 'kind-reader', 'reader');
    const out = await assume(roleArn, await clusterToken(key, issuer, 'reader'));
    expect(out.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::000000000000:assumed-role/kind-reader/test',
    );
    const rotated = await clusterKey();
    await expect(
      assume(roleArn, await clusterToken(rotated, issuer, 'reader')),
    ).rejects.toMatchObject({ name: 'InvalidIdentityTokenException' });
  });

  it('--update re-pins the JWKS after the cluster rotated its key', async () => {
    const rotated = await clusterKey();
    writeFileSync(jwksFile, JSON.stringify({ keys: [rotated.jwk] }));
    const r = await latchkey(['cluster', 'register', 'kind', '--jwks-file', jwksFile, '--update']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Cluster kind updated');
    // At once: the server that re-pinned the keys drops what it had looked up.
    const out = await assume(roleArn, await clusterToken(rotated, issuer, 'reader'));
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    await expect(assume(roleArn, await clusterToken(key, issuer, 'reader'))).rejects.toMatchObject({
      name: 'InvalidIdentityTokenException',
    });
  });

  it('--update of an unknown cluster, or of a Latchkey-issuer cluster, is refused', async () => {
    const unknown = await latchkey([
      'cluster',
      'register',
      'nope',
      '--jwks-file',
      jwksFile,
      '--update',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('ResourceNotFoundException: No cluster found for name: nope.');
    await signedJsonRequest(
      admin,
      'POST',
      '/clusters',
      {
        name: 'own',
        roleArn: 'arn:aws:iam::000000000000:role/eks',
        resourcesVpcConfig: {},
      },
      'eks',
    );
    const refused = await signedJsonRequest(
      admin,
      'PUT',
      '/_latchkey/eks/external-clusters/own/jwks',
      { jwks: { keys: [key.jwk] } },
      'eks',
    );
    expect(refused.status).toBe(400);
    expect(refused.json.__type).toBe('InvalidRequestException');
  });

  it('minting a token for an external cluster is refused with a clear error', async () => {
    const r = await latchkey([
      'token',
      '--cluster',
      'kind',
      '--namespace',
      'default',
      '--service-account',
      'reader',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidRequestException');
    expect(r.stderr).toContain('external');
  });
});

describe('cluster register: bad input fails clearly and writes nothing', () => {
  let before: string[];

  beforeAll(async () => {
    before = await clusterNames();
  });

  afterAll(async () => {
    expect(await clusterNames()).toEqual(before);
  });

  it.each([
    [['--issuer', 'not a url'], 'is not an absolute URL'],
    [['--issuer', 'http://issuer.example.com'], 'must use https'],
    [
      ['--issuer', 'https://issuer.example.com/id/X?a=b'],
      'must not have credentials, a query or a fragment',
    ],
    // Link-local (the cloud metadata service) is never fetched, whatever the options.
    [['--issuer', 'https://169.254.169.254/latest'], 'which may not be fetched'],
    // An issuer that answers nothing useful.
    [['--issuer', 'https://127.0.0.1:1/id/X'], 'could not be fetched'],
  ])('register %j fails: %s', async (args, message) => {
    const r = await latchkey(['cluster', 'register', 'bad', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidParameterException');
    expect(r.stderr).toContain(message);
  });

  it('an unreadable, malformed or keyless JWKS file is refused before anything is sent', async () => {
    const missing = await latchkey([
      'cluster',
      'register',
      'bad',
      '--issuer',
      'https://k8s.example.com',
      '--jwks-file',
      join(dir.path, 'nope.json'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read --jwks-file');
    expect(missing.stderr).toContain('ENOENT');

    const cases: [string, string][] = [
      ['{"keys": [', 'is not valid JSON'],
      ['[1,2]', 'JWKS is not a JSON object'],
      ['{"kty":"RSA"}', 'no "keys" array'],
      ['{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}', 'no usable public key'],
    ];
    for (const [content, message] of cases) {
      const file = join(dir.path, 'bad-jwks.json');
      writeFileSync(file, content);
      const r = await latchkey([
        'cluster',
        'register',
        'bad',
        '--issuer',
        'https://k8s.example.com',
        '--jwks-file',
        file,
      ]);
      expect(r.code, content).toBe(1);
      expect(r.stderr, content).toContain(message);
    }
  });

  it('the server refuses the same JWKS problems when called directly', async () => {
    const r = await signedJsonRequest(
      admin,
      'POST',
      '/_latchkey/eks/external-clusters',
      { name: 'bad', issuer: 'https://k8s.example.com', jwks: { keys: [{ kty: 'oct', k: 'AA' }] } },
      'eks',
    );
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('InvalidParameterException');
  });

  it('a taken name is ResourceInUseException, and Latchkey’s own issuer cannot be registered', async () => {
    const dup = await latchkey(['cluster', 'register', 'real', '--issuer', idpIssuer]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('ResourceInUseException: Cluster already exists with name: real');
    const sameIssuer = await signedJsonRequest(
      admin,
      'POST',
      '/_latchkey/eks/external-clusters',
      { name: 'bad', issuer: idpIssuer },
      'eks',
    );
    expect(sameIssuer.status).toBe(409);
    expect(sameIssuer.json.message).toBe(
      `The issuer ${idpIssuer} is already registered for cluster real.`,
    );
    const own = await signedJsonRequest(
      admin,
      'POST',
      '/_latchkey/eks/external-clusters',
      { name: 'bad', issuer: `${server.url}/_latchkey/oidc/id/${'A'.repeat(32)}` },
      'eks',
    );
    expect(own.status).toBe(400);
  });
});

describe('keys rotate: a Latchkey issuer’s signing key', () => {
  let roleArn: string;
  let issuer: string;

  beforeAll(async () => {
    const created = await latchkey(['cluster', 'create', 'dev', '--json']);
    issuer = (JSON.parse(created.stdout) as { identity: { oidc: { issuer: string } } }).identity
      .oidc.issuer;
    roleArn = await irsaRole('dev', 'dev-reader', 'reader');
  });

  async function jwksKids(): Promise<string[]> {
    const jwks = (await (await fetch(`${issuer}/keys`)).json()) as { keys: JWK[] };
    return jwks.keys.map((k) => k.kid ?? '');
  }

  it('a new key signs at once; the old one stays published until its tokens have expired', async () => {
    const before = await mintToken(admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    const oldKid = decodeProtectedHeader(before).kid ?? '';
    expect(await jwksKids()).toEqual([oldKid]);

    const r = await latchkey(['keys', 'rotate', '--cluster', 'dev', '--json']);
    expect(r.stderr).toBe('');
    const rotated = JSON.parse(r.stdout) as {
      kid: string;
      keys: { kid: string; status: string; retireAfter?: string }[];
    };
    expect(rotated.kid).not.toBe(oldKid);
    expect(rotated.keys.map((k) => [k.kid, k.status])).toEqual([
      [rotated.kid, 'SIGNING'],
      [oldKid, 'PUBLISHED'],
    ]);
    // Published for the longest token (24 h) plus STS's 5 minutes of skew.
    const retire = Date.parse(rotated.keys[1]?.retireAfter ?? '');
    expect(Math.abs(retire - (Date.now() + 86_700_000))).toBeLessThan(60_000);
    expect(await jwksKids()).toEqual([rotated.kid, oldKid]);

    // Immediately: a token of the new key verifies, and so does the one of the old key.
    const after = await mintToken(admin, 'dev', { namespace: 'default', serviceAccount: 'reader' });
    expect(decodeProtectedHeader(after).kid).toBe(rotated.kid);
    expect((await assume(roleArn, after)).Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect((await assume(roleArn, before)).Credentials?.AccessKeyId).toMatch(/^ASIA/);
  });

  it('rotates to ES256 on request; keys list shows every published key', async () => {
    const r = await latchkey(['keys', 'rotate', '--cluster', 'dev', '--algorithm', 'ES256']);
    expect(r.stdout).toContain('(ES256)');
    const token = await mintToken(admin, 'dev', { namespace: 'default', serviceAccount: 'reader' });
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
    expect((await assume(roleArn, token)).Credentials?.AccessKeyId).toMatch(/^ASIA/);
    const list = await latchkey(['keys', 'list', '--cluster', 'dev']);
    expect(list.stdout.trim().split('\n')).toHaveLength(3);
    expect(list.stdout).toContain('signing');
    expect(list.stdout).toContain('published until');
  });

  it('an unknown cluster or algorithm fails clearly, and rotates nothing', async () => {
    const kids = await jwksKids();
    const unknown = await latchkey(['keys', 'rotate', '--cluster', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('ResourceNotFoundException: No cluster found for name: nope.');
    const alg = await latchkey(['keys', 'rotate', '--cluster', 'dev', '--algorithm', 'HS256']);
    expect(alg.code).not.toBe(0);
    expect(alg.stderr).toContain('RS256 or ES256');
    const direct = await signedJsonRequest(
      admin,
      'POST',
      '/_latchkey/eks/clusters/dev/signing-keys',
      { algorithm: 'none' },
      'eks',
    );
    expect(direct.json.__type).toBe('InvalidParameterException');
    expect(await jwksKids()).toEqual(kids);
  });
});
