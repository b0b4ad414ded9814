/**
 * The console's pieces with a clock of their own: one-time links expire and are used up,
 * failed sign-ins are counted per address, sessions expire and cannot be forged; decisions
 * read back from audit JSON are checked field by field.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialResolver } from '../../src/auth/index.js';
import { StoredSessionRevocations } from '../../src/console/revoked-sessions.js';
import { ConsoleSessions } from '../../src/console/session.js';
import { LINK_SECONDS, SignInLinks } from '../../src/console/sign-in-links.js';
import { SignInThrottle } from '../../src/console/throttle.js';
import { readCookie } from '../../src/console/routes.js';
import { decisionFromJson, explainInWords, policyName } from '../../src/access/index.js';
import { compilePolicyText, evaluatePolicies } from '../../src/policy/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
let store: Store;

beforeAll(async () => {
  store = await openStore({ dataDir: dir.path });
});

afterAll(async () => {
  await store.close();
  dir.remove();
});

const alice = {
  type: 'IAMUser' as const,
  accountId: '111122223333',
  arn: 'arn:aws:iam::111122223333:user/alice',
  principalId: 'AIDAALICE',
  accessKeyId: 'AKIAALICEALICEALICE1',
  userName: 'alice',
};

/** A resolver over one key (the real AccessKeyDirectory is exercised end to end). */
function resolverOf(keys: Map<string, string>): CredentialResolver {
  return {
    resolve: async (id) =>
      keys.has(id)
        ? { secretAccessKey: keys.get(id) ?? '', principal: { ...alice, accessKeyId: id } }
        : null,
  };
}

describe('one-time sign-in links (in the store)', () => {
  const rows = () => store.db.selectFrom('console_sign_in_links').selectAll().execute();

  it('work once, within their lifetime; only the hash is stored', async () => {
    let now = 1_000_000;
    const links = new SignInLinks(store.db, () => now);
    const token = await links.issue('AKIA1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await rows();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token);
    expect(await links.consume(token)).toBe('AKIA1');
    expect(await links.consume(token)).toBeUndefined();

    const late = await links.issue('AKIA2');
    now += LINK_SECONDS * 1000 + 1;
    expect(await links.consume(late)).toBeUndefined();
  });

  it('are redeemed once when two redemptions race', async () => {
    const links = new SignInLinks(store.db);
    const token = await links.issue('AKIA-race');
    const results = await Promise.all([1, 2, 3].map(() => links.consume(token)));
    expect(results.filter((r) => r === 'AKIA-race')).toHaveLength(1);
  });

  it('prune expired links when a new one is issued, and refuse malformed tokens', async () => {
    let now = 2_000_000;
    const links = new SignInLinks(store.db, () => now);
    await links.issue('AKIA-old');
    now += LINK_SECONDS * 1000;
    const fresh = await links.issue('AKIA-new');
    expect((await rows()).map((r) => r.access_key_id)).not.toContain('AKIA-old');
    expect(await links.consume('')).toBeUndefined();
    expect(await links.consume('../../etc/passwd')).toBeUndefined();
    expect(await links.consume(fresh.slice(0, 42) + (fresh.endsWith('A') ? 'B' : 'A'))).toBe(
      undefined,
    );
    expect(await links.consume(fresh)).toBe('AKIA-new');
  });
});

describe('sign-in throttle', () => {
  it('blocks after ten failures in five minutes, per address, and forgets after', () => {
    let now = 0;
    const throttle = new SignInThrottle(() => now);
    for (let i = 0; i < 9; i++) throttle.fail('10.0.0.1');
    expect(throttle.blocked('10.0.0.1')).toBe(false);
    throttle.fail('10.0.0.1');
    expect(throttle.blocked('10.0.0.1')).toBe(true);
    expect(throttle.blocked('10.0.0.2')).toBe(false);
    now += 5 * 60_000 + 1;
    expect(throttle.blocked('10.0.0.1')).toBe(false);
  });
});

describe('console sessions', () => {
  const masterKey = randomBytes(32);
  const keys = new Map([[alice.accessKeyId, 'alice-secret']]);

  const revocations = () => new StoredSessionRevocations(store.db);

  it('open while valid, not after expiry, not under another master key', async () => {
    let now = Date.now();
    const sessions = new ConsoleSessions(masterKey, resolverOf(keys), revocations(), () => now);
    const { value, maxAgeSeconds } = sessions.seal(alice);
    expect(maxAgeSeconds).toBe(8 * 3600);
    expect((await sessions.open(value))?.arn).toBe(alice.arn);
    const other = new ConsoleSessions(randomBytes(32), resolverOf(keys), revocations(), () => now);
    expect(await other.open(value)).toBeUndefined();
    now += 8 * 3600 * 1000 + 1;
    expect(await sessions.open(value)).toBeUndefined();
  });

  it('end when the key stops resolving', async () => {
    const mutable = new Map(keys);
    const sessions = new ConsoleSessions(masterKey, resolverOf(mutable), revocations());
    const { value } = sessions.seal(alice);
    mutable.clear();
    expect(await sessions.open(value)).toBeUndefined();
  });

  it('verify secrets exactly', async () => {
    const sessions = new ConsoleSessions(masterKey, resolverOf(keys), revocations());
    expect((await sessions.verifyAccessKey(alice.accessKeyId, 'alice-secret'))?.arn).toBe(
      alice.arn,
    );
    expect(await sessions.verifyAccessKey(alice.accessKeyId, 'alice-secreT')).toBeUndefined();
    expect(await sessions.verifyAccessKey(alice.accessKeyId, '')).toBeUndefined();
    expect(await sessions.verifyAccessKey('AKIAUNKNOWNUNKNOWN00', 'alice-secret')).toBeUndefined();
    expect(await sessions.verifyAccessKey('ASIA' + 'X'.repeat(16), 'alice-secret')).toBeUndefined();
  });

  it('end at sign-out, for that session only; revocations are pruned after expiry', async () => {
    let now = Date.now();
    const list = new StoredSessionRevocations(store.db, () => now);
    const sessions = new ConsoleSessions(masterKey, resolverOf(keys), list, () => now);
    const signedOut = sessions.seal(alice).value;
    const kept = sessions.seal(alice).value;
    await sessions.revoke(signedOut);
    expect(await sessions.open(signedOut)).toBeUndefined();
    expect((await sessions.open(kept))?.arn).toBe(alice.arn);
    // Another instance on the same store (another replica) refuses it too.
    const replica = new ConsoleSessions(masterKey, resolverOf(keys), revocations(), () => now);
    expect(await replica.open(signedOut)).toBeUndefined();
    // Forged or empty cookies record nothing.
    await sessions.revoke('not-a-session');
    await sessions.revoke(undefined);
    const count = async () =>
      (await store.db.selectFrom('console_revoked_sessions').selectAll().execute()).length;
    const before = await count();
    // Once the session has expired anyway, its row goes at the next sign-out.
    now += 8 * 3600 * 1000 + 1;
    const later = sessions.seal(alice).value;
    await sessions.revoke(later);
    expect(await count()).toBe(before);
  });

  it('fail closed when the store cannot say whether a session was signed out', async () => {
    const broken = {
      revoke: async () => {},
      isRevoked: async (): Promise<boolean> => {
        throw new Error('store unavailable');
      },
    };
    const sessions = new ConsoleSessions(masterKey, resolverOf(keys), broken);
    await expect(sessions.open(sessions.seal(alice).value)).rejects.toThrow('store unavailable');
  });

  it('read one cookie out of a Cookie header', () => {
    expect(readCookie('a=1; latchkey_console=xyz; b=2', 'latchkey_console')).toBe('xyz');
    expect(readCookie('latchkey_consoleX=1', 'latchkey_console')).toBeUndefined();
    expect(readCookie(undefined, 'latchkey_console')).toBeUndefined();
  });
});

describe('decisions in words', () => {
  const policy = compilePolicyText(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TeamOnly',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } },
        },
        { Sid: 'NoSecrets', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::secrets/*' },
      ],
    }),
    { kind: 'identity', id: 'role/app/inline/read' },
  );
  const decide = (resource: string, tags: Record<string, string>) =>
    evaluatePolicies(
      {
        principal: {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::111122223333:assumed-role/app/s',
          accountId: '111122223333',
        },
        action: 's3:GetObject',
        resource,
        context: Object.fromEntries(
          Object.entries(tags).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]),
        ),
        identityPolicies: [policy],
      },
      { trace: 'full' },
    );

  it('name the condition that kept an Allow from applying', () => {
    const words = explainInWords(decide('arn:aws:s3:::b/k', { team: 'red' }), {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/k',
    });
    expect(words.summary).toBe(
      'Denied: no identity-based policy allows s3:GetObject on arn:aws:s3:::b/k, and IAM denies what is not allowed.',
    );
    expect(words.decidedBy[0]).toMatch(
      /^statement "TeamOnly" of inline policy read of role app would allow it, but its condition StringEquals on aws:PrincipalTag\/team is not met/,
    );
  });

  it('name the explicit Deny, and survive a round trip through JSON', () => {
    const decision = decide('arn:aws:s3:::secrets/k', { team: 'blue' });
    const back = decisionFromJson(JSON.parse(JSON.stringify(decision)));
    expect(back).toBeDefined();
    const words = explainInWords(back ?? decision, { action: 's3:GetObject' });
    expect(words.summary).toContain('Denied by an explicit Deny: statement "NoSecrets"');
  });

  it('reject what is not a decision', () => {
    for (const junk of [null, 1, 'x', {}, { decision: 'maybe' }, []]) {
      expect(decisionFromJson(junk)).toBeUndefined();
    }
    const partial = decisionFromJson({
      decision: 'implicitDeny',
      trace: [1, { kind: 'statement' }],
      matched: 'x',
    });
    expect(partial).toEqual({
      decision: 'implicitDeny',
      matched: [],
      trace: [],
      missingContextKeys: [],
    });
  });

  it('name policies by what they are', () => {
    expect(policyName('arn:aws:iam::aws:policy/AdministratorAccess')).toBe(
      'AWS managed policy AdministratorAccess',
    );
    expect(policyName('arn:aws:iam::111122223333:policy/team/Readers')).toBe(
      'managed policy Readers',
    );
    expect(policyName('user/bob/inline/x')).toBe('inline policy x of user bob');
    expect(policyName('arn:aws:iam::111122223333:role/app#trust')).toBe(
      'the trust policy of arn:aws:iam::111122223333:role/app',
    );
  });
});
