/**
 * The access graph, its questions and lint, through the signed API and the `latchkey` CLI
 * (`who-can`, `can-reach`, `lint` with --json), against a real server whose roles, trust
 * policies and associations were made with the AWS SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { runLatchkey, type CliResult } from '../helpers/cli.js';
import { consoleSignIn } from '../helpers/console.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createClusterWithProvider, createIrsaRole } from '../helpers/irsa.js';
import {
  setUpAccess,
  setUpCrossAccount,
  setUpTrust,
  type AccessFixture,
  type CrossAccountFixture,
  type TrustFixture,
} from './fixture.js';

let t: TestServer;
let fx: AccessFixture;
let xa: CrossAccountFixture;
let tr: TrustFixture;

function latchkey(args: string[]): Promise<CliResult> {
  return runLatchkey(t.dataDir, args, { timeoutMs: 60_000 });
}

const api = (method: 'GET' | 'POST', path: string, body?: unknown) =>
  signedJsonRequest(t.admin, method, `/_latchkey/api/access/${path}`, body);

beforeAll(async () => {
  t = await startTestServer();
  fx = await setUpAccess(t.server.url, t.admin);
  xa = await setUpCrossAccount(t.server.url, t.admin, fx);
  tr = await setUpTrust(t.server.url, t.admin, fx);
});

afterAll(async () => {
  await t.stop();
});

describe('latchkey who-can', () => {
  it('names the service account whose IRSA role may read the object, with the statement', async () => {
    const r = await latchkey(['who-can', 's3:GetObject', 'arn:aws:s3:::reports/q1.csv', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      principals: {
        kind: string;
        namespace?: string;
        serviceAccount?: string;
        roleArn: string;
        allowedBy: string[];
        path: { via: string }[];
      }[];
    };
    const app = out.principals.find(
      (p) => p.kind === 'serviceAccount' && p.serviceAccount === 'app',
    );
    expect(app).toMatchObject({
      namespace: 'default',
      roleArn: fx.roles.reader,
      path: [{ via: 'irsa' }],
    });
    expect(app?.allowedBy.join()).toContain('"ReadReports"');
    expect(out.principals.some((p) => p.kind === 'role' && p.roleArn === fx.roles.reader)).toBe(
      true,
    );
    // The admin's own roles are not in play; a role that only lists buckets is not named.
    expect(out.principals.some((p) => p.roleArn === fx.roles.open)).toBe(false);
  });

  it('follows Pod Identity through the association into the target role', async () => {
    const r = await api('POST', 'who-can', {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::uploads/a.txt',
    });
    const out = r.json as unknown as {
      principals: {
        kind: string;
        serviceAccount?: string;
        roleArn: string;
        path: { via: string; roleArn: string }[];
      }[];
    };
    const frontend = out.principals.find((p) => p.serviceAccount === 'frontend');
    expect(frontend?.roleArn).toBe(fx.roles.target);
    expect(frontend?.path.map((s) => s.via)).toEqual(['pod-identity', 'association-target']);
  });

  it('names subject patterns: a trust with no sub condition admits any service account', async () => {
    const r = await api('POST', 'who-can', {
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::anything',
    });
    const out = r.json as unknown as {
      principals: { kind: string; subjectPattern?: string; roleArn: string }[];
    };
    expect(out.principals).toContainEqual(
      expect.objectContaining({
        kind: 'subjectPattern',
        subjectPattern: '*',
        roleArn: fx.roles.open,
      }),
    );
  });

  it('prints readable lines without --json, and names IAM users allowed too', async () => {
    const r = await latchkey(['who-can', 's3:GetObject', 'arn:aws:s3:::reports/q1.csv']);
    expect(r.stdout).toContain('dev default/app');
    expect(r.stdout).toContain('via IRSA → arn:aws:iam::000000000000:role/app-reader');
    const kms = await api('POST', 'who-can', {
      action: 'kms:Decrypt',
      resource: 'arn:aws:kms:us-east-1:000000000000:key/x',
    });
    const out = kms.json as unknown as { principals: { kind: string; userArn?: string }[] };
    // Only the admin (AdministratorAccess) may; bob has no policy, no workload role allows it.
    expect(out.principals).toEqual([
      expect.objectContaining({
        kind: 'user',
        userArn: 'arn:aws:iam::000000000000:user/admin',
      }),
    ]);
  });

  it('refuses a malformed action or resource', async () => {
    const bad = await latchkey(['who-can', 'not-an-action']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('InvalidParameterException');
    const badResource = await api('POST', 'who-can', {
      action: 's3:GetObject',
      resource: 'bucket/key',
    });
    expect(badResource.status).toBe(400);
    expect(badResource.json.message).toContain('resource must be * or an ARN');
    const wrongType = await api('POST', 'who-can', { action: 42 });
    expect(wrongType.status).toBe(400);
  });
});

interface WhoCanOut {
  resourceAccount?: string;
  resourcePolicy?: string;
  roleTrust?: { roleArn: string; known: boolean };
  principals: {
    kind: string;
    accountId?: string;
    roleArn?: string;
    userArn?: string;
    namespace?: string;
    serviceAccount?: string;
    path: { via: string; roleArn: string }[];
    allowedBy: string[];
  }[];
}

async function whoCanCli(action: string, resource: string): Promise<WhoCanOut> {
  const r = await latchkey(['who-can', action, resource, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as WhoCanOut;
}

async function whoCanApi(action: string, resource: string): Promise<WhoCanOut> {
  const r = await api('POST', 'who-can', { action, resource });
  expect(r.status).toBe(200);
  return r.json as unknown as WhoCanOut;
}

const roles = (out: WhoCanOut) =>
  out.principals.filter((p) => p.kind === 'role').map((p) => p.roleArn);

describe('who-can with bucket policies and other accounts', () => {
  const ADMIN = 'arn:aws:iam::000000000000:user/admin';

  it('same account: the bucket policy alone allows a role it names; its Deny beats an identity Allow', async () => {
    const out = await whoCanCli('s3:GetObject', 'arn:aws:s3:::shared-a/doc.txt');
    expect(out.resourceAccount).toBe('000000000000');
    expect(out.resourcePolicy).toBe('arn:aws:s3:::shared-a');
    // bucket-only has no policy of its own: the bucket policy names it.
    const direct = out.principals.find((p) => p.kind === 'role' && p.roleArn === xa.a.bucketOnly);
    expect(direct?.allowedBy.join()).toContain(
      'statement "OwnRoleDirect" of the resource policy of arn:aws:s3:::shared-a',
    );
    // … and so does the service account whose IRSA role it is.
    expect(out.principals).toContainEqual(
      expect.objectContaining({
        kind: 'serviceAccount',
        namespace: 'default',
        serviceAccount: 'bucket-sa',
        roleArn: xa.a.bucketOnly,
      }),
    );
    // AdministratorAccess allows everything, but the bucket policy's Deny wins.
    expect(out.principals.some((p) => p.userArn === ADMIN)).toBe(false);
    // Without the bucket's Deny the admin may: another bucket of the account, no policy.
    const other = await whoCanApi('s3:GetObject', 'arn:aws:s3:::no-such-bucket/doc.txt');
    expect(other.principals.some((p) => p.userArn === ADMIN)).toBe(true);
    expect(roles(other)).not.toContain(xa.a.bucketOnly);
    expect(other.resourcePolicy).toBeUndefined();
  });

  it('names another account’s role only when the bucket policy names it, and its own policy allows', async () => {
    const out = await whoCanApi('s3:GetObject', 'arn:aws:s3:::shared-a/doc.txt');
    expect(out.principals).toContainEqual(
      expect.objectContaining({
        kind: 'role',
        accountId: xa.accountB,
        roleArn: xa.b.partnerReader,
      }),
    );
    // partner-other may read anything by its own policy, but the bucket policy does not name it.
    expect(roles(out)).not.toContain(xa.b.partnerOther);
    // B's target role reached through the association: not named either.
    expect(out.principals.some((p) => p.serviceAccount === 'fetcher')).toBe(false);
    expect(out.principals.some((p) => p.kind === 'anonymous')).toBe(false);
  });

  it('Principal "*" lets in anyone, and every principal of a named account its own policy allows', async () => {
    const out = await whoCanApi('s3:GetObject', 'arn:aws:s3:::shared-a/public/logo.png');
    expect(out.principals[0]).toMatchObject({ kind: 'anonymous' });
    expect(out.principals[0]?.allowedBy.join()).toContain('"PublicPrefix"');
    expect(roles(out)).toEqual(
      expect.arrayContaining([xa.b.partnerOther, xa.b.xacctTarget, xa.a.bucketOnly]),
    );
    // Through B's target role too (its own policy allows, and "*" names it).
    expect(out.principals).toContainEqual(
      expect.objectContaining({ serviceAccount: 'fetcher', roleArn: xa.b.xacctTarget }),
    );
    // The explicit Deny still applies to the admin.
    expect(out.principals.some((p) => p.userArn === ADMIN)).toBe(false);
  });

  it('another account’s bucket: both the bucket policy and the caller’s own policy must allow', async () => {
    const out = await whoCanApi('s3:GetObject', 'arn:aws:s3:::partner-b/x.csv');
    expect(out.resourceAccount).toBe(xa.accountB);
    const allowed = roles(out);
    // Named and allowed by its own policy.
    expect(allowed).toContain(xa.a.partnerClient);
    // Allowed by its own policy, not named.
    expect(allowed).not.toContain(xa.a.notNamed);
    // Named, but its own policy covers only reports/*.
    expect(allowed).not.toContain(fx.roles.reader);
    // AdministratorAccess, not named.
    expect(out.principals.some((p) => p.userArn === ADMIN)).toBe(false);
    // Pod Identity into B's target role: a session of B's role on B's bucket (same account).
    const fetcher = out.principals.find((p) => p.serviceAccount === 'fetcher');
    expect(fetcher).toMatchObject({ accountId: '000000000000', roleArn: xa.b.xacctTarget });
    expect(fetcher?.path.map((s) => s.via)).toEqual(['pod-identity', 'association-target']);
    expect(fetcher?.allowedBy.join()).toContain('"TargetReadsAnything"');
  });

  it('prints the bucket policy and other accounts readably', async () => {
    const r = await latchkey(['who-can', 's3:GetObject', 'arn:aws:s3:::shared-a/public/a']);
    expect(r.stdout).toContain(
      '(with the bucket policy of arn:aws:s3:::shared-a, owned by account 000000000000)',
    );
    expect(r.stdout).toContain('anyone, without credentials (anonymous)');
    expect(r.stdout).toContain('dev xacct/fetcher (account 000000000000)');
  });

  it('the console’s who-can answers the same', async () => {
    const signIn = await consoleSignIn(t.server.url, t.admin.accessKeyId, t.admin.secretAccessKey);
    const cookie = signIn.cookie ?? '';
    const q = new URLSearchParams({ action: 's3:GetObject', resource: 'arn:aws:s3:::partner-b/k' });
    const res = await fetch(`${t.server.url}/_latchkey/console/api/who-can?${q.toString()}`, {
      headers: { cookie },
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as WhoCanOut;
    expect(out.resourceAccount).toBe(xa.accountB);
    expect(roles(out)).toContain(xa.a.partnerClient);
    expect(roles(out)).not.toContain(xa.a.notNamed);
  });
});

describe('who-can sts:AssumeRole on a role: its trust policy decides', () => {
  const ADMIN = 'arn:aws:iam::000000000000:user/admin';
  const users = (out: WhoCanOut) =>
    out.principals.filter((p) => p.kind === 'user').map((p) => p.userArn);
  const serviceAccounts = (out: WhoCanOut) =>
    out.principals
      .filter((p) => p.kind === 'serviceAccount')
      .map((p) => `${p.namespace ?? ''}/${p.serviceAccount ?? ''}`);

  it('a trust policy naming one role: that role, not the admin nor a role it does not name', async () => {
    const out = await whoCanCli('sts:AssumeRole', fx.roles.target);
    expect(out.roleTrust).toEqual({ roleArn: fx.roles.target, known: true });
    const text = await latchkey(['who-can', 'sts:AssumeRole', fx.roles.target]);
    expect(text.stdout).toContain(`(decided with the trust policy of ${fx.roles.target})`);
    expect(out.resourceAccount).toBe('000000000000');
    // web-pod is named by the trust policy, and its own policy allows sts:AssumeRole on it.
    const pod = out.principals.find((p) => p.kind === 'role' && p.roleArn === fx.roles.pod);
    expect(pod?.allowedBy.join()).toContain(`trust policy of ${fx.roles.target}`);
    // cron-pod's own policy allows it too, but the trust policy does not name it.
    expect(roles(out)).not.toContain(fx.roles.cron);
    // AdministratorAccess allows sts:*, but the trust policy does not admit the admin.
    expect(users(out)).not.toContain(ADMIN);
    expect(users(out)).toEqual([]);
  });

  it('a trust policy naming the account: whoever’s own policy allows, service accounts too', async () => {
    const out = await whoCanApi('sts:AssumeRole', tr.roles.rootTrusted);
    expect(users(out)).toEqual(expect.arrayContaining([ADMIN, tr.users.carol]));
    // bob and dave have no policy allowing it: naming the account is not enough.
    expect(users(out)).not.toContain(tr.users.dave);
    expect(users(out).some((u) => u?.endsWith(':user/bob'))).toBe(false);
    expect(roles(out)).toContain(tr.roles.assumer);
    // web-pod may assume only uploads-target.
    expect(roles(out)).not.toContain(fx.roles.pod);
    expect(serviceAccounts(out)).toContain('ops/deployer');
    // The trust policy allows sts:AssumeRole only: nobody may tag sessions.
    const tag = await whoCanApi('sts:TagSession', tr.roles.rootTrusted);
    expect(tag.principals).toEqual([]);
  });

  it('a trust policy naming a user by ARN: that user with no policy of his own, nobody else', async () => {
    const out = await whoCanApi('sts:AssumeRole', tr.roles.userTrusted);
    expect(users(out)).toEqual([tr.users.dave]);
    expect(out.principals[0]?.allowedBy.join()).toContain('"TrustDave"');
    // carol's and assumer's own policies allow it; the trust policy does not name them.
    expect(roles(out)).toEqual([]);
    expect(serviceAccounts(out)).toEqual([]);
  });

  it('an explicit Deny in the trust policy removes the principal it names', async () => {
    const out = await whoCanApi('sts:AssumeRole', tr.roles.denyTrusted);
    expect(users(out)).toContain(ADMIN);
    expect(users(out)).not.toContain(tr.users.carol);
    expect(roles(out)).toContain(tr.roles.assumer);
  });

  it('a trust policy naming another account: that account’s principals whose own policy allows', async () => {
    const out = await whoCanApi('sts:AssumeRole', xa.a.partnerEntry);
    expect(out.principals).toContainEqual(
      expect.objectContaining({ kind: 'role', accountId: xa.accountB, roleArn: xa.b.bAssumer }),
    );
    expect(users(out)).toEqual([`arn:aws:iam::${xa.accountB}:user/admin`]);
    expect(roles(out)).not.toContain(xa.b.partnerOther);
  });

  it('a role Latchkey does not hold, or another action: identity policies decide, as before', async () => {
    const unknown = 'arn:aws:iam::000000000000:role/never-trusted';
    const out = await whoCanApi('sts:AssumeRole', unknown);
    expect(out.roleTrust).toEqual({ roleArn: unknown, known: false });
    expect(users(out)).toEqual(expect.arrayContaining([ADMIN, tr.users.carol]));
    const text = await latchkey(['who-can', 'sts:AssumeRole', unknown]);
    expect(text.stdout).toContain(
      `(Latchkey holds no role ${unknown}: identity policies alone decided)`,
    );
    const other = await whoCanApi('iam:GetRole', tr.roles.userTrusted);
    expect(other.roleTrust).toBeUndefined();
    expect(users(other)).toContain(ADMIN);
  });

  it('can it: a service account’s role may assume a role only if that role trusts it', async () => {
    const ask = (resource: string) =>
      api('POST', 'can-it', {
        cluster: 'dev',
        namespace: 'ops',
        serviceAccount: 'deployer',
        action: 'sts:AssumeRole',
        resource,
      });
    const trusted = await ask(tr.roles.rootTrusted);
    expect(trusted.json.allowed).toBe(true);
    const notTrusted = await ask(tr.roles.userTrusted);
    expect(notTrusted.json.allowed).toBe(false);
    expect(String(notTrusted.json.summary)).toContain('trust policy');
  });
});

describe('can it? and can-reach with bucket policies', () => {
  const canIt = (serviceAccount: string, namespace: string, resource: string) =>
    api('POST', 'can-it', {
      cluster: 'dev',
      namespace,
      serviceAccount,
      action: 's3:GetObject',
      resource,
    });

  it('can it: the bucket policy decides with the role’s own policy', async () => {
    const own = await canIt('bucket-sa', 'default', 'arn:aws:s3:::shared-a/doc.txt');
    expect(own.json.allowed).toBe(true);
    expect(String(own.json.summary)).toContain('statement "OwnRoleDirect"');
    const fetcherB = await canIt('fetcher', 'xacct', 'arn:aws:s3:::partner-b/doc.txt');
    expect(fetcherB.json.allowed).toBe(true);
    const fetcherA = await canIt('fetcher', 'xacct', 'arn:aws:s3:::shared-a/doc.txt');
    expect(fetcherA.json.allowed).toBe(false);
    const app = await canIt('app', 'default', 'arn:aws:s3:::partner-b/doc.txt');
    expect(app.json.allowed).toBe(false);
  });

  it('can-reach lists the bucket-policy statements naming the role, and a working cross-account target’s own', async () => {
    const r = await api('POST', 'can-reach', {
      cluster: 'dev',
      namespace: 'default',
      serviceAccount: 'app',
    });
    const out = r.json as unknown as {
      paths: {
        steps: { roleArn: string }[];
        allows: { actions: string[] }[];
        resourcePolicies: {
          resourceArn: string;
          statement: string;
          effect: string;
          names: string;
          crossAccount: boolean;
        }[];
      }[];
    };
    const reader = out.paths.find((p) => p.steps[0]?.roleArn === fx.roles.reader);
    expect(reader?.resourcePolicies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          resourceArn: 'arn:aws:s3:::partner-b',
          statement: 'ClientReads',
          effect: 'Allow',
          names: 'role',
          crossAccount: true,
        }),
        expect.objectContaining({
          resourceArn: 'arn:aws:s3:::shared-a',
          statement: 'PublicPrefix',
          names: 'anyone',
        }),
      ]),
    );
    // Statements naming other principals are not listed.
    expect(reader?.resourcePolicies.map((s) => s.statement)).not.toContain('OwnRoleDirect');
    expect(reader?.resourcePolicies.map((s) => s.statement)).not.toContain('DenyAdmin');

    const fetcher = await api('POST', 'can-reach', {
      cluster: 'dev',
      namespace: 'xacct',
      serviceAccount: 'fetcher',
    });
    const paths = fetcher.json.paths as {
      mechanism: string;
      works: boolean;
      steps: { roleArn: string }[];
      allows: { statement: string }[];
    }[];
    const pod = paths.find((p) => p.mechanism === 'pod-identity');
    expect(pod?.works).toBe(true);
    expect(pod?.steps.map((s) => s.roleArn)).toEqual([xa.a.xacctPod, xa.b.xacctTarget]);
    expect(pod?.allows.map((s) => s.statement)).toEqual(['TargetReadsAnything']);

    const text = await latchkey([
      'can-reach',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--service-account',
      'bucket-sa',
    ]);
    expect(text.stdout).toContain(
      'bucket policy of arn:aws:s3:::shared-a: allow s3:GetObject on arn:aws:s3:::shared-a/*',
    );
  });
});

describe('latchkey can-reach', () => {
  it('lists the roles a service account reaches and what they allow', async () => {
    const r = await latchkey([
      'can-reach',
      '--cluster',
      'dev',
      '--namespace',
      'web',
      '--service-account',
      'frontend',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      paths: {
        mechanism: string;
        works: boolean;
        maxSessionSeconds: number;
        steps: { roleArn: string }[];
        allows: { actions: string[] }[];
      }[];
    };
    // Its association, chained into the target; and the open IRSA role, which admits anyone.
    expect(out.paths.map((p) => p.mechanism).sort()).toEqual(['irsa', 'pod-identity']);
    const pod = out.paths.find((p) => p.mechanism === 'pod-identity');
    expect(pod).toMatchObject({ works: true, maxSessionSeconds: 3600 });
    expect(pod?.steps.map((s) => s.roleArn)).toEqual([fx.roles.pod, fx.roles.target]);
    expect(pod?.allows.flatMap((a) => a.actions)).toEqual(['s3:PutObject']);
    const irsa = out.paths.find((p) => p.mechanism === 'irsa');
    expect(irsa?.steps.map((s) => s.roleArn)).toEqual([fx.roles.open]);
  });

  it('shows a broken association with its problem', async () => {
    const r = await latchkey([
      'can-reach',
      '--cluster',
      'dev',
      '--namespace',
      'batch',
      '--service-account',
      'worker',
    ]);
    expect(r.stdout).toContain('BROKEN');
    expect(r.stdout).toContain('does not let pods.eks.amazonaws.com sts:AssumeRole');
  });

  it('includes the roles whose wildcard subjects admit the account', async () => {
    const r = await api('POST', 'can-reach', {
      cluster: 'dev',
      namespace: 'team-a',
      serviceAccount: 'svc',
    });
    const out = r.json as unknown as { paths: { steps: { roleArn: string }[] }[] };
    const roles = out.paths.map((p) => p.steps[0]?.roleArn);
    expect(roles).toContain(fx.roles.team);
    expect(roles).toContain(fx.roles.open);
    expect(roles).not.toContain(fx.roles.reader);
  });

  it('refuses an unknown cluster and malformed names', async () => {
    const unknown = await latchkey([
      'can-reach',
      '--cluster',
      'nope',
      '--namespace',
      'a',
      '--service-account',
      'b',
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('ResourceNotFoundException');
    const bad = await api('POST', 'can-reach', {
      cluster: 'dev',
      namespace: 'Bad_NS',
      serviceAccount: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('namespace must be a Kubernetes name');
  });
});

describe('can it? (the API behind the console form)', () => {
  it('allows through the chain and explains which statement allowed', async () => {
    const r = await api('POST', 'can-it', {
      cluster: 'dev',
      namespace: 'web',
      serviceAccount: 'frontend',
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::uploads/x',
    });
    expect(r.status).toBe(200);
    expect(r.json.allowed).toBe(true);
    expect(String(r.json.summary)).toContain('statement "WriteUploads"');
  });

  it('denies with the reason: no path, a broken path, or no permission', async () => {
    const none = await api('POST', 'can-it', {
      cluster: 'dev',
      namespace: 'nobody',
      serviceAccount: 'x',
      action: 's3:GetObject',
      resource: '*',
    });
    // The open IRSA role admits every service account, so even "nobody" has a path: it lists buckets only.
    expect(none.json.allowed).toBe(false);
    expect(String(none.json.summary)).toContain('no role it reaches may do s3:GetObject');

    const broken = await api('POST', 'can-it', {
      cluster: 'dev',
      namespace: 'batch',
      serviceAccount: 'worker',
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::reports/x',
    });
    expect(broken.json.allowed).toBe(false);
    const paths = broken.json.paths as {
      works: boolean;
      problem?: string;
      steps: { explanation: { summary: string } }[];
    }[];
    const pod = paths.find((p) => !p.works);
    expect(pod?.problem).toContain('ec2-only');
    expect(pod?.steps[0]?.explanation.summary).toContain(
      'no role trust policy allows sts:AssumeRole',
    );
  });
});

describe('latchkey lint', () => {
  it('finds every kind of mistake, each with its fix, and exits 2 on errors', async () => {
    const r = await latchkey(['lint', '--json']);
    expect(r.code).toBe(2);
    const findings = JSON.parse(r.stdout) as {
      rule: string;
      subject: string;
      fix: string;
      severity: string;
    }[];
    const rules = (subject: string) =>
      findings.filter((f) => f.subject === subject).map((f) => f.rule);
    expect(rules(fx.roles.open)).toEqual(
      expect.arrayContaining(['irsa-trust-without-sub', 'irsa-missing-aud']),
    );
    expect(rules(fx.roles.team)).toContain('irsa-wildcard-subject');
    expect(rules(fx.roles.team)).not.toContain('irsa-missing-aud');
    expect(rules(fx.roles.reader)).toEqual([]);
    expect(rules(fx.roles.orphan)).toContain('pod-identity-trust-without-association');
    expect(rules(fx.roles.pod)).not.toContain('pod-identity-trust-without-association');
    expect(rules(fx.roles.tagKeys)).toContain('forallvalues-missing-key');
    expect(rules(fx.roles.target)).toContain('chain-beyond-one-hour');
    expect(
      findings.some(
        (f) =>
          f.rule === 'association-role-not-trusting' &&
          f.subject.includes('podidentityassociation/dev/'),
      ),
    ).toBe(true);
    for (const f of findings) expect(f.fix.length).toBeGreaterThan(20);
    const wild = findings.find((f) => f.rule === 'irsa-trust-without-sub');
    expect(wild?.fix).toContain(
      `"${fx.providerUrl}:sub": "system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT"`,
    );
  });

  it('prints findings readably', async () => {
    const r = await latchkey(['lint']);
    expect(r.stdout).toMatch(
      /ERROR {2}irsa-trust-without-sub {2}arn:aws:iam::000000000000:role\/open-irsa/,
    );
    expect(r.stdout).toContain('fix: Add "Null"');
  });

  it('flags a target role that does not trust the association role', async () => {
    // uploads-target trusts web-pod only; the association from cron-pod into it cannot chain.
    const r = await api('GET', 'lint');
    const findings = r.json.findings as { rule: string; message: string; fix: string }[];
    const f = findings.find((x) => x.rule === 'association-target-not-trusting');
    expect(f?.message).toContain('jobs/cron');
    expect(f?.fix).toContain(`"Principal": {"AWS": "${fx.roles.cron}"}`);
    expect(findings.filter((x) => x.rule === 'association-target-not-trusting')).toHaveLength(1);
  });
});

describe('the access API', () => {
  it('serves the graph: service accounts → roles → chained roles → permissions', async () => {
    const r = await api('GET', 'graph');
    expect(r.status).toBe(200);
    const g = r.json as unknown as {
      nodes: { id: string; kind: string; column: number }[];
      edges: { from: string; to: string; kind: string; works: boolean }[];
    };
    expect(g.nodes.find((n) => n.id === 'sa:dev/default/app')?.column).toBe(0);
    expect(g.edges).toContainEqual(
      expect.objectContaining({
        from: 'sa:dev/default/app',
        to: `role:${fx.roles.reader}`,
        kind: 'irsa',
        works: true,
      }),
    );
    expect(g.edges).toContainEqual(
      expect.objectContaining({
        from: `role:${fx.roles.pod}`,
        to: `role:${fx.roles.target}`,
        kind: 'association-target',
      }),
    );
    expect(g.edges).toContainEqual(
      expect.objectContaining({
        from: 'sa:dev/batch/worker',
        to: `role:${fx.roles.ec2}`,
        works: false,
      }),
    );
    expect(g.nodes.find((n) => n.id === `role:${fx.roles.target}`)?.column).toBe(2);
    expect(
      g.nodes.some((n) => n.kind === 'permission' && n.id.startsWith(`perm:${fx.roles.reader}`)),
    ).toBe(true);
  });

  it('marks IRSA broken when the provider does not accept the sts.amazonaws.com audience', async () => {
    const provider = await createClusterWithProvider(t.server.url, t.admin, 'stage', ['other']);
    const role = await createIrsaRole(
      t.server.url,
      t.admin,
      'stage-app',
      provider,
      'system:serviceaccount:default:app',
    );
    const r = await api('POST', 'can-reach', {
      cluster: 'stage',
      namespace: 'default',
      serviceAccount: 'app',
    });
    const paths = r.json.paths as {
      works: boolean;
      problem?: string;
      steps: { roleArn: string }[];
    }[];
    expect(paths).toHaveLength(1);
    expect(paths[0]?.steps[0]?.roleArn).toBe(role);
    expect(paths[0]?.works).toBe(false);
    expect(paths[0]?.problem).toContain('does not list sts.amazonaws.com as a client id');
  });

  it('needs a signature, and the caller’s permission', async () => {
    const unsigned = await fetch(`${t.server.url}/_latchkey/api/access/lint`);
    expect(unsigned.status).not.toBe(200);
    const bob = {
      ...t.admin,
      accessKeyId: fx.bob.accessKeyId,
      secretAccessKey: fx.bob.secretAccessKey,
    };
    const denied = await signedJsonRequest(bob, 'GET', '/_latchkey/api/access/lint');
    expect(denied.status).toBe(403);
    expect(denied.json.__type).toBe('AccessDeniedException');
  });
});
