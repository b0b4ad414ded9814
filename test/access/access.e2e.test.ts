/**
 * The access graph, its questions and lint, through the signed API and the `latchkey` CLI
 * (`who-can`, `can-reach`, `lint` with --json), against a real server whose roles, trust
 * policies and associations were made with the AWS SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { runLatchkey, type CliResult } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createClusterWithProvider, createIrsaRole } from '../helpers/irsa.js';
import { setUpAccess, type AccessFixture } from './fixture.js';

let t: TestServer;
let fx: AccessFixture;

function latchkey(args: string[]): Promise<CliResult> {
  return runLatchkey(t.dataDir, args, { timeoutMs: 60_000 });
}

const api = (method: 'GET' | 'POST', path: string, body?: unknown) =>
  signedJsonRequest(t.admin, method, `/_latchkey/api/access/${path}`, body);

beforeAll(async () => {
  t = await startTestServer();
  fx = await setUpAccess(t.server.url, t.admin);
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
