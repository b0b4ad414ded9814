/**
 * The console in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) signs in, reads a denial's explanation, draws and explores the access graph,
 * asks "can it?", reads lint — with screenshots of each view, written to a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { setUpAccess, waitForDenials, type AccessFixture } from '../access/fixture.js';

function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    return '/usr/bin/chromium';
  }
}

let t: TestServer;
let fx: AccessFixture;
let browser: Browser;
let page: Page;
const shots = tempDir('latchkey-console-shots-');
const pageErrors: string[] = [];

async function screenshot(name: string): Promise<string> {
  const path = join(shots.path, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  expect(statSync(path).size).toBeGreaterThan(5_000);
  return path;
}

async function openView(hash: string, ready: string): Promise<void> {
  // The page's own script routes on the hash; a plain navigation to #view triggers it.
  await page.goto(`${t.server.url}/_latchkey/console/#${hash}`);
  await page.waitForSelector(`#app[data-ready="${ready}"]`);
}

beforeAll(async () => {
  t = await startTestServer();
  fx = await setUpAccess(t.server.url, t.admin);
  await waitForDenials(t.admin, 3);
  browser = await chromium.launch({ executablePath: chromiumPath(), headless: true });
  page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    // The browser's own favicon request is not the console's, and the refused sign-in's 401
    // is the test's own doing.
    const url = msg.location().url;
    const expected =
      url.endsWith('/favicon.ico') ||
      (url.endsWith('/_latchkey/console/sign-in') && msg.text().includes('status of 401'));
    if (msg.type() === 'error' && !expected) {
      pageErrors.push(`${msg.text()} ${msg.location().url}`);
    }
  });
});

afterAll(async () => {
  await browser?.close();
  await t.stop();
  // Screenshots stay for a person to look at only when asked.
  if (process.env.LATCHKEY_KEEP_SCREENSHOTS === undefined) shots.remove();
  else console.log(`console screenshots in ${shots.path}`);
});

describe('the console in headless Chromium', () => {
  it('sends an unsigned visitor to sign-in, refuses a wrong secret, then signs in', async () => {
    await page.goto(`${t.server.url}/_latchkey/console/`);
    expect(new URL(page.url()).pathname).toBe('/_latchkey/console/sign-in');
    await screenshot('01-sign-in');

    await page.fill('#accessKeyId', t.admin.accessKeyId);
    await page.fill('#secretAccessKey', 'not-the-secret');
    await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
    expect(await page.textContent('.error')).toContain('Those credentials are not valid');

    await page.fill('#accessKeyId', t.admin.accessKeyId);
    await page.fill('#secretAccessKey', t.admin.secretAccessKey);
    await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
    expect(new URL(page.url()).pathname).toBe('/_latchkey/console/');
    await page.waitForSelector('#app[data-ready="overview"]');
    expect(await page.textContent('#who')).toBe('arn:aws:iam::000000000000:user/admin');
    expect(await page.textContent('#associations-table')).toContain('web/frontend');
    // The session cookie is invisible to scripts.
    expect(await page.evaluate('document.cookie')).toBe('');
    await screenshot('02-overview');
  });

  it('lists denials highlighted and opens a denial’s explanation', async () => {
    await openView('decisions/denied', 'decisions');
    const rows = await page.$$('#decisions-table tr.denied');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    await screenshot('03-denials');

    const listRoles = page.locator('#decisions-table tr', { hasText: 'iam:ListRoles' }).first();
    await listRoles.locator('a.why').click();
    await page.waitForSelector('#app[data-ready="why"]');
    expect(await page.textContent('#why-summary')).toBe(
      'Denied: no identity-based policy allows iam:ListRoles, and IAM denies what is not allowed.',
    );
    expect(await page.textContent('#app')).toContain('arn:aws:iam::000000000000:user/bob');
    await screenshot('04-why-identity');

    await openView('decisions/denied', 'decisions');
    const pod = page.locator('#decisions-table tr', { hasText: 'role/ec2-only' }).first();
    await pod.locator('a.why').click();
    await page.waitForSelector('#app[data-ready="why"]');
    expect(await page.textContent('#why-step')).toContain(
      `Assuming the role ${fx.roles.ec2} was refused`,
    );
    expect(await page.textContent('#why-summary')).toContain('no role trust policy allows');
    await screenshot('05-why-chain-step');
  });

  it('draws the access graph and highlights a service account’s paths', async () => {
    await openView('graph', 'graph');
    const nodes = await page.$$('#graph-svg g.node');
    expect(nodes.length).toBeGreaterThan(10);
    expect(await page.$$('#graph-svg path.edge.broken')).not.toHaveLength(0);
    await screenshot('06-graph');

    await page.click('#graph-svg g.node[data-id="sa:dev/web/frontend"]');
    const detail = await page.textContent('#graph-detail');
    expect(detail).toContain('web/frontend');
    expect(detail).toContain('association');
    // The chain's roles stay lit; an unrelated role is dimmed.
    expect(
      await page.getAttribute(`#graph-svg g.node[data-id="role:${fx.roles.target}"]`, 'class'),
    ).not.toContain('dim');
    expect(
      await page.getAttribute(`#graph-svg g.node[data-id="role:${fx.roles.reader}"]`, 'class'),
    ).toContain('dim');
    await screenshot('07-graph-selected');

    // Keyboard users select with Enter.
    await page.focus('#graph-svg g.node[data-id="sa:dev/default/app"]');
    await page.keyboard.press('Enter');
    expect(await page.textContent('#graph-detail')).toContain('default/app');
    expect(await page.textContent('#graph-detail')).toContain('IRSA → app-reader');
  });

  it('answers "can it?" with the decision and why', async () => {
    await openView('can-it', 'can-it');
    await page.fill('#f-namespace', 'web');
    await page.fill('#f-serviceAccount', 'frontend');
    await page.fill('#f-action', 's3:PutObject');
    await page.fill('#f-resource', 'arn:aws:s3:::reports/x');
    await page.click('#can-it-submit');
    await page.waitForSelector('#can-it-verdict');
    expect(await page.getAttribute('#can-it-verdict', 'class')).toContain('denied');
    expect(await page.textContent('#can-it-verdict')).toContain(
      'no role it reaches may do s3:PutObject',
    );
    await screenshot('08-can-it-denied');

    await page.fill('#f-resource', 'arn:aws:s3:::uploads/x');
    await page.click('#can-it-submit');
    await page.waitForSelector('#can-it-verdict.allowed');
    expect(await page.textContent('#can-it-verdict')).toContain('"WriteUploads"');
    await screenshot('09-can-it-allowed');
  });

  it('answers "who can?"', async () => {
    await openView('who-can', 'who-can');
    await page.fill('#who-can-form [name=action]', 's3:GetObject');
    await page.fill('#who-can-form [name=resource]', 'arn:aws:s3:::reports/q1.csv');
    await page.click('#who-can-form button');
    await page.waitForSelector('#who-can-table');
    const text = await page.textContent('#who-can-table');
    expect(text).toContain('dev default/app');
    expect(text).toContain('user arn:aws:iam::000000000000:user/admin');
    expect(await page.$('#who-can-role-trust')).toBeNull();
    await screenshot('11-who-can');

    // On a role, its trust policy decides, and the page says so.
    await page.fill('#who-can-form [name=action]', 'sts:AssumeRole');
    await page.fill('#who-can-form [name=resource]', 'arn:aws:iam::000000000000:role/app-reader');
    await page.click('#who-can-form button');
    await page.waitForSelector('#who-can-role-trust');
    expect(await page.textContent('#who-can-role-trust')).toBe(
      'Decided with the trust policy of arn:aws:iam::000000000000:role/app-reader.',
    );
  });

  it('shows lint findings with their fixes, and roles with their policies', async () => {
    await openView('lint', 'lint');
    expect(await page.textContent('#lint-findings')).toContain('irsa-trust-without-sub');
    expect(await page.textContent('#lint-findings')).toContain('Fix:');
    await screenshot('10-lint');
    await openView('roles', 'roles');
    expect(await page.textContent('.role[data-role="app-reader"]')).toContain('ReadReports');
  });

  it('signs out, and a one-time link signs in exactly once', async () => {
    await Promise.all([page.waitForNavigation(), page.click('header button.link')]);
    expect(new URL(page.url()).pathname).toBe('/_latchkey/console/sign-in');
    await page.goto(`${t.server.url}/_latchkey/console/`);
    expect(new URL(page.url()).pathname).toBe('/_latchkey/console/sign-in');

    const link = (await t.server.consoleSignInUrl()) ?? '';
    await page.goto(link);
    await page.waitForSelector('#app[data-ready="overview"]');
    expect(new URL(page.url()).search).toBe('');
    const fresh = await browser.newPage();
    await fresh.goto(link);
    expect(await fresh.textContent('.error')).toContain('This sign-in link is not valid');
    await fresh.close();
  });

  it('ran without script errors or CSP violations, and wrote its screenshots', () => {
    expect(pageErrors).toEqual([]);
    expect(existsSync(join(shots.path, '06-graph.png'))).toBe(true);
  });
});
