/**
 * The console over HTTP against a real server: nothing answers without a session, sign-in by
 * access key or one-time link (bad secrets, used links, throttling), CSRF refusals, sessions
 * scoped to the account and to the signed-in user's permissions, and "why?" for real denials.
 */
import { DeleteAccessKeyCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { consoleSignIn, type ConsoleSignIn } from '../helpers/console.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { setUpAccess, waitForDenials, type AccessFixture } from '../access/fixture.js';

let t: TestServer;
let fx: AccessFixture;
let base: string;

const C = '/_latchkey/console';

/** Signs in with an access key the way the form does; returns the response and cookie. */
function signIn(
  accessKeyId: string,
  secretAccessKey: string,
  headers?: Record<string, string>,
): Promise<ConsoleSignIn> {
  return consoleSignIn(base, accessKeyId, secretAccessKey, headers);
}

async function adminCookie(): Promise<string> {
  const r = await signIn(t.admin.accessKeyId, t.admin.secretAccessKey);
  if (r.cookie === undefined) throw new Error(`sign-in failed: ${r.status}`);
  return r.cookie;
}

async function getJson(path: string, cookie?: string) {
  const res = await fetch(`${base}${C}/api/${path}`, {
    headers: cookie ? { cookie } : {},
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

beforeAll(async () => {
  t = await startTestServer();
  base = t.server.url;
  fx = await setUpAccess(base, t.admin);
  await waitForDenials(t.admin, 3);
});

afterAll(async () => {
  await t.stop();
});

describe('without a session nothing answers', () => {
  const apiPaths = [
    'me',
    'overview',
    'roles',
    'decisions',
    'why?eventId=00000000-0000-0000-0000-000000000000',
    'graph',
    'who-can?action=s3:GetObject',
    'can-reach?cluster=dev&namespace=default&serviceAccount=app',
    'lint',
    'no-such-thing',
  ];

  it.each(apiPaths)('GET api/%s is 401', async (path) => {
    const r = await getJson(path);
    expect(r.status).toBe(401);
    expect(r.json.error).toBe('Unauthenticated');
  });

  it('POST api/can-it, other methods, the script and unknown pages are 401', async () => {
    for (const [method, path] of [
      ['POST', `${C}/api/can-it`],
      ['PUT', `${C}/api/roles`],
      ['DELETE', `${C}/api/me`],
      ['GET', `${C}/assets/console.js`],
      ['GET', `${C}/somewhere/else`],
    ] as const) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'x-latchkey-console': '1', origin: base, 'content-type': 'application/json' },
        ...(method === 'POST' || method === 'PUT' ? { body: '{}' } : {}),
      });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
    }
  });

  it('the application page redirects to sign-in; sign-in page and stylesheet are public', async () => {
    const app = await fetch(`${base}${C}/`, { redirect: 'manual' });
    expect(app.status).toBe(303);
    expect(app.headers.get('location')).toBe(`${C}/sign-in`);
    const bare = await fetch(`${base}${C}`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    const page = await fetch(`${base}${C}/sign-in`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('name="secretAccessKey"');
    expect((await fetch(`${base}${C}/assets/console.css`)).status).toBe(200);
  });

  it('a forged, altered or foreign cookie is no session', async () => {
    const cookie = await adminCookie();
    const value = cookie.split('=')[1] ?? '';
    const flipped = value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11);
    for (const bad of [
      'latchkey_console=',
      'latchkey_console=not-a-session',
      `latchkey_console=${flipped}`,
      `latchkey_console=${'x'.repeat(5000)}`,
    ]) {
      expect((await getJson('me', bad)).status).toBe(401);
    }
    expect((await getJson('me', cookie)).status).toBe(200);
  });
});

describe('sign-in with an access key', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie scoped to the console', async () => {
    const r = await signIn(t.admin.accessKeyId, t.admin.secretAccessKey);
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${C}/`);
    const res = await fetch(`${base}${C}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({
        accessKeyId: t.admin.accessKeyId,
        secretAccessKey: t.admin.secretAccessKey,
      }).toString(),
    });
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(
      /^latchkey_console=[A-Za-z0-9_-]+; Path=\/_latchkey\/console; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    // The cookie carries no secret in the clear.
    expect(setCookie).not.toContain(t.admin.accessKeyId);
    const again = await fetch(`${base}${C}/sign-in`, {
      redirect: 'manual',
      headers: { cookie: r.cookie ?? '' },
    });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(`${C}/`);
    const me = await getJson('me', r.cookie);
    expect(me.json).toEqual({
      arn: 'arn:aws:iam::000000000000:user/admin',
      accountId: '000000000000',
      type: 'IAMUser',
    });
  });

  it('refuses a wrong secret, an unknown key, a malformed key and an empty form with 401', async () => {
    for (const [id, secret] of [
      [t.admin.accessKeyId, 'wrong'],
      [t.admin.accessKeyId, ''],
      ['AKIAAAAAAAAAAAAAAAAA', t.admin.secretAccessKey],
      ['not a key', 'x'],
      ['', ''],
    ] as const) {
      const r = await signIn(id, secret, { origin: base, 'x-forwarded-for': 'ignored' });
      expect(r.status).toBe(401);
      expect(r.cookie).toBeUndefined();
      expect(r.text).toContain('Those credentials are not valid');
      expect(r.text).not.toContain(t.admin.secretAccessKey);
    }
  });

  it('refuses a sign-in posted from another site', async () => {
    const r = await signIn(t.admin.accessKeyId, t.admin.secretAccessKey, {
      origin: 'https://evil.example',
    });
    expect(r.status).toBe(403);
    expect(r.cookie).toBeUndefined();
    const noOrigin = await fetch(`${base}${C}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'cross-site',
      },
      body: 'accessKeyId=a&secretAccessKey=b',
    });
    expect(noOrigin.status).toBe(403);
  });

  it('records ConsoleLogin successes and failures in the audit trail, without secrets', async () => {
    await signIn(t.admin.accessKeyId, 'definitely-wrong');
    let events: { eventName: string; responseElements?: { ConsoleLogin?: string } }[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await signedJsonRequest(t.admin, 'POST', '/_latchkey/api/audit/search', {
        limit: 200,
      });
      events = (r.json.events as typeof events).filter((e) => e.eventName === 'ConsoleLogin');
      if (events.some((e) => e.responseElements?.ConsoleLogin === 'Failure')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(events.some((e) => e.responseElements?.ConsoleLogin === 'Success')).toBe(true);
    expect(events.some((e) => e.responseElements?.ConsoleLogin === 'Failure')).toBe(true);
    expect(JSON.stringify(events)).not.toContain(t.admin.secretAccessKey);
    expect(JSON.stringify(events)).not.toContain('definitely-wrong');
  });
});

describe('one-time sign-in links', () => {
  it('sign in once, then are used up', async () => {
    const link = await t.server.consoleSignInUrl();
    expect(link).toMatch(/\/_latchkey\/console\/sign-in\/link\?token=[A-Za-z0-9_-]{43}$/);
    const first = await fetch(link ?? '', { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0];
    expect((await getJson('me', cookie)).json.arn).toBe('arn:aws:iam::000000000000:user/admin');
    const again = await fetch(link ?? '', { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('This sign-in link is not valid');
  });

  it('refuse made-up, malformed and missing tokens', async () => {
    for (const q of ['?token=' + 'A'.repeat(43), '?token=short', '?token=%00%01', '']) {
      const res = await fetch(`${base}${C}/sign-in/link${q}`, { redirect: 'manual' });
      expect(res.status).toBe(401);
    }
  });
});

describe('signed in', () => {
  let cookie: string;
  beforeAll(async () => {
    cookie = await adminCookie();
  });

  it('shows clusters, service accounts, associations and roles with their policies', async () => {
    const o = await getJson('overview', cookie);
    expect(o.status).toBe(200);
    expect(o.json.clusters).toEqual([expect.objectContaining({ name: 'dev' })]);
    expect(o.json.associations).toHaveLength(4);
    const roles = await getJson('roles', cookie);
    const reader = (
      roles.json.roles as {
        roleName: string;
        trustPolicy: string;
        policies: { document: string }[];
      }[]
    ).find((r) => r.roleName === 'app-reader');
    expect(reader?.trustPolicy).toContain('system:serviceaccount:default:app');
    expect(reader?.policies[0]?.document).toContain('ReadReports');
  });

  it('lists recent decisions with denials flagged, and explains a denial: statement and step', async () => {
    const d = await getJson('decisions?denied=1', cookie);
    const decisions = d.json.decisions as {
      eventId: string;
      eventName: string;
      denied: boolean;
      explainable: boolean;
      errorMessage?: string;
    }[];
    expect(decisions.every((x) => x.denied)).toBe(true);
    const listRoles = decisions.find((x) => x.eventName === 'ListRoles');
    expect(listRoles?.explainable).toBe(true);
    const why = await getJson(`why?eventId=${listRoles?.eventId ?? ''}`, cookie);
    expect(why.status).toBe(200);
    expect(why.json).toMatchObject({
      caller: 'arn:aws:iam::000000000000:user/bob',
      action: 'iam:ListRoles',
      denied: true,
    });
    const explanation = why.json.explanation as { summary: string; decidedBy: string[] };
    expect(explanation.summary).toBe(
      'Denied: no identity-based policy allows iam:ListRoles, and IAM denies what is not allowed.',
    );
    expect(String(why.json.step)).toContain('refused by the caller’s permissions');

    const pod = decisions.find(
      (x) => x.eventName === 'AssumeRoleForPodIdentity' && x.errorMessage?.includes('ec2-only'),
    );
    const podWhy = await getJson(`why?eventId=${pod?.eventId ?? ''}`, cookie);
    expect(String(podWhy.json.step)).toContain(`Assuming the role ${fx.roles.ec2} was refused`);
    expect(String(podWhy.json.step)).toContain('service account batch/worker');
    const podExplanation = podWhy.json.explanation as {
      summary: string;
      decidedBy: string[];
      steps: string[];
    };
    expect(podExplanation.summary).toContain('no role trust policy allows sts:AssumeRole');
    expect(podExplanation.steps.join('\n')).toContain(`the trust policy of ${fx.roles.ec2}`);
    expect(podExplanation.steps.join('\n')).toContain('does not name the caller');

    // The chain's second step: cron-pod's session may not assume the target.
    const chain = decisions.filter((x) => x.eventName === 'AssumeRoleForPodIdentity');
    const steps = await Promise.all(
      chain.map(async (x) => String((await getJson(`why?eventId=${x.eventId}`, cookie)).json.step)),
    );
    const target = steps.find((s) => s.includes(fx.roles.target));
    expect(target).toMatch(
      /^Assuming the role arn:aws:iam::000000000000:role\/uploads-target was refused: arn:aws:sts::000000000000:assumed-role\/cron-pod\/\S+ asked for sts:AssumeRole on behalf of EKS Pod Identity, for service account jobs\/cron, and the role's trust policy does not allow it\.$/,
    );
  });

  it('refuses malformed and unknown event ids', async () => {
    expect((await getJson('why?eventId=nope', cookie)).status).toBe(400);
    expect((await getJson('why', cookie)).status).toBe(400);
    const missing = await getJson('why?eventId=00000000-0000-0000-0000-000000000000', cookie);
    expect(missing.status).toBe(404);
    expect((await getJson('decisions?limit=0', cookie)).status).toBe(400);
    expect((await getJson('decisions?limit=abc', cookie)).status).toBe(400);
  });

  it('answers can-it with an explanation; POSTs need the CSRF header and the same origin', async () => {
    const body = JSON.stringify({
      cluster: 'dev',
      namespace: 'default',
      serviceAccount: 'app',
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::reports/q1.csv',
    });
    const post = (headers: Record<string, string>, payload = body) =>
      fetch(`${base}${C}/api/can-it`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: payload,
      });
    const ok = await post({ 'x-latchkey-console': '1', origin: base });
    expect(ok.status).toBe(200);
    const result = (await ok.json()) as { allowed: boolean; summary: string };
    expect(result.allowed).toBe(true);
    expect(result.summary).toContain(
      'statement "ReadReports" of inline policy read-reports of role app-reader',
    );

    expect((await post({ origin: base })).status).toBe(403);
    expect((await post({ 'x-latchkey-console': '1', origin: 'https://evil.example' })).status).toBe(
      403,
    );
    expect((await post({ 'x-latchkey-console': '1', 'sec-fetch-site': 'cross-site' })).status).toBe(
      403,
    );
    expect((await post({ 'x-latchkey-console': '1', origin: base }, '[1]')).status).toBe(400);
    expect((await post({ 'x-latchkey-console': '1', origin: base }, '{not json')).status).toBe(400);
    expect(
      (await post({ 'x-latchkey-console': '1', origin: base }, 'x'.repeat(20_000))).status,
    ).toBe(413);
    const bad = await post(
      { 'x-latchkey-console': '1', origin: base },
      JSON.stringify({
        cluster: 'dev',
        namespace: 'default',
        serviceAccount: 'app',
        action: 'bad',
      }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('action must look like');
  });

  it('serves who-can, can-reach, graph and lint; bad queries are 400', async () => {
    expect(
      (await getJson('who-can?action=s3:GetObject&resource=arn:aws:s3:::reports/a', cookie)).status,
    ).toBe(200);
    expect((await getJson('who-can?action=nope', cookie)).status).toBe(400);
    expect((await getJson('who-can', cookie)).status).toBe(400);
    expect(
      (await getJson('can-reach?cluster=dev&namespace=default&serviceAccount=app', cookie)).status,
    ).toBe(200);
    expect(
      (await getJson('can-reach?cluster=nope&namespace=default&serviceAccount=app', cookie)).status,
    ).toBe(404);
    expect(
      (await getJson('can-reach?cluster=dev&namespace=UPPER&serviceAccount=app', cookie)).status,
    ).toBe(400);
    const graph = await getJson('graph', cookie);
    expect((graph.json.nodes as unknown[]).length).toBeGreaterThan(5);
    const lint = await getJson('lint', cookie);
    expect((lint.json.findings as unknown[]).length).toBeGreaterThan(5);
    expect((await getJson('nothing-here', cookie)).status).toBe(404);
  });

  it('signs out: the cookie is cleared, and a copy of it no longer works', async () => {
    const other = await adminCookie();
    expect((await getJson('me', cookie)).status).toBe(200);
    const res = await fetch(`${base}${C}/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: base },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toContain('Max-Age=0');
    // The copied cookie, replayed: refused by the API, sent to sign-in by the page.
    const replay = await getJson('me', cookie);
    expect(replay.status).toBe(401);
    expect(replay.json.error).toBe('Unauthenticated');
    const page = await fetch(`${base}${C}/`, { redirect: 'manual', headers: { cookie } });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`${C}/sign-in`);
    // Only that session ended: another sign-in of the same key still works.
    expect((await getJson('me', other)).status).toBe(200);
  });

  it('refuses a sign-out posted from another site, and the session stays', async () => {
    const mine = await adminCookie();
    const res = await fetch(`${base}${C}/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: mine, origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect((await getJson('me', mine)).status).toBe(200);
  });
});

describe('scope: the signed-in user’s permissions and account', () => {
  it('a user without permissions signs in but sees no data (403), and loses the session with its key', async () => {
    const r = await signIn(fx.bob.accessKeyId, fx.bob.secretAccessKey);
    expect(r.status).toBe(303);
    expect((await getJson('me', r.cookie)).status).toBe(200);
    for (const path of ['overview', 'roles', 'decisions', 'graph', 'lint']) {
      const res = await getJson(path, r.cookie);
      expect(`${path} ${res.status} ${String(res.json.error)}`).toBe(`${path} 403 AccessDenied`);
    }
    await new IAMClient({
      endpoint: base,
      region: 'us-east-1',
      credentials: t.admin,
      maxAttempts: 1,
    }).send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: fx.bob.accessKeyId }));
    expect((await getJson('me', r.cookie)).status).toBe(401);
  });

  it('another account’s admin sees only its own account', async () => {
    const created = await signedJsonRequest(t.admin, 'POST', '/_latchkey/api/accounts', {
      accountId: '111122223333',
    });
    expect(created.status).toBe(200);
    const r = await signIn(String(created.json.accessKeyId), String(created.json.secretAccessKey));
    const me = await getJson('me', r.cookie);
    expect(me.json.accountId).toBe('111122223333');
    const o = await getJson('overview', r.cookie);
    expect(o.json.clusters).toEqual([]);
    const roles = await getJson('roles', r.cookie);
    expect(roles.json.roles).toEqual([]);
    const d = await getJson('decisions?denied=1', r.cookie);
    expect(d.json.decisions).toEqual([]);
    // An event of account 000000000000, by id, is not found from here.
    const admin = await adminCookie();
    const theirs = (await getJson('decisions?denied=1', admin)).json.decisions as {
      eventId: string;
    }[];
    const other = await getJson(`why?eventId=${theirs[0]?.eventId ?? ''}`, r.cookie);
    expect(other.status).toBe(404);
  });
});

describe('throttling', () => {
  it('blocks an address after ten failed sign-ins', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++) {
      last = (await signIn(t.admin.accessKeyId, `wrong-${i}`)).status;
    }
    expect(last).toBe(429);
    // Even the right secret is refused while blocked.
    expect((await signIn(t.admin.accessKeyId, t.admin.secretAccessKey)).status).toBe(429);
  });
});
