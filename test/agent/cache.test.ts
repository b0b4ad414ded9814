/**
 * The credential cache through the agent's HTTP interface: hits, single flight, pod isolation
 * under concurrency and eviction, renewal ahead of expiry, outages (keep serving while more than
 * 15 s remain) and irrecoverable errors (evict), LRU bound and renewal rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../../src/agent/index.js';
import { request, startHarness, type Harness } from './helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MIN = 60_000;
const pod = { namespace: 'default', serviceAccount: 'app' };

async function creds(
  harness: Harness,
  token: string,
): Promise<{ status: number; key: string; text: string }> {
  const answer = await request(harness.origin, { token });
  return { status: answer.status, key: answer.json?.AccessKeyId ?? '', text: answer.text };
}

async function metric(harness: Harness, name: string): Promise<string> {
  const text = await harness.agent.metrics.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

describe('cache hits and single flight', () => {
  it('serves the second request from the cache, byte for byte', async () => {
    h = await startHarness();
    const token = h.standIn.podToken(pod);
    const first = await request(h.origin, { token });
    const second = await request(h.origin, { token });
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(h.standIn.calls).toBe(1);
    expect(await metric(h, 'latchkey_agent_cache_lookups_total')).toContain('result="hit"} 1');
  });

  it('1,000 concurrent cold requests for one pod make exactly one EKS Auth call', async () => {
    h = await startHarness({ rateLimit: 100_000, burst: 5_000 });
    const token = h.standIn.podToken(pod);
    h.standIn.outcomes.set(token, { kind: 'delay', ms: 400 });
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () => request(h!.origin, { token })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.json?.AccessKeyId)).size).toBe(1);
    expect(h.standIn.calls).toBe(1);
    expect(h.standIn.callsFor(token)).toBe(1);
  });

  it('a failed flight fails all its waiters once, and the next request tries again', async () => {
    h = await startHarness({ rateLimit: 100_000, burst: 5_000, eksAuthMaxAttempts: 1 });
    const token = h.standIn.podToken(pod);
    h.standIn.outcomes.set(token, {
      kind: 'delay',
      ms: 200,
      then: { kind: 'error', code: 'ThrottlingException' },
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => request(h!.origin, { token })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(429));
    expect(h.standIn.callsFor(token)).toBe(1);
    h.standIn.outcomes.delete(token);
    expect((await creds(h, token)).status).toBe(200);
    expect(h.standIn.callsFor(token)).toBe(2);
  });

  it('with the cache disabled every request calls EKS Auth, concurrent ones still once', async () => {
    h = await startHarness({ maxCacheSize: 0, rateLimit: 100_000, burst: 5_000 });
    const token = h.standIn.podToken(pod);
    await creds(h, token);
    await creds(h, token);
    expect(h.standIn.calls).toBe(2);
    h.standIn.outcomes.set(token, { kind: 'delay', ms: 200 });
    await Promise.all(Array.from({ length: 20 }, () => creds(h!, token)));
    expect(h.standIn.calls).toBe(3);
    expect(h.agent.cacheSize()).toBe(0);
  });
});

describe('a pod never receives another pod’s credentials', () => {
  it('40 pods × 10 interleaved concurrent requests, cache bounded at 8 (constant eviction)', async () => {
    h = await startHarness({ maxCacheSize: 8, rateLimit: 100_000, burst: 5_000 });
    // Pods of distinct service accounts, and several pods of one service account (same role,
    // different tokens): every token is its own cache entry.
    const pods = Array.from({ length: 40 }, (_, i) =>
      i < 30
        ? { namespace: `ns${i % 5}`, serviceAccount: `sa${i}`, pod: `pod${i}` }
        : { namespace: 'shared', serviceAccount: 'web', pod: `web-${i}` },
    );
    const tokens = pods.map((p) => h!.standIn.podToken(p));
    const order = tokens.flatMap((token, i) => Array.from({ length: 10 }, () => ({ token, i })));
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(
        order.map(async ({ token, i }) => ({
          i,
          token,
          answer: await request(h!.origin, { token }),
        })),
      );
      for (const { i, token, answer } of answers) {
        expect(answer.status).toBe(200);
        const owner = h.standIn.ownerOf(answer.json?.AccessKeyId ?? '');
        expect(owner?.token).toBe(token);
        expect(owner?.podName).toBe(pods[i]?.pod);
        expect(answer.json?.Token).toBe(owner?.sessionToken);
      }
    }
    expect(h.agent.cacheSize()).toBeLessThanOrEqual(8);
    expect(await metric(h, 'latchkey_agent_cache_evictions_total')).toMatch(/reason="lru"} \d+/);
  });

  it('tokens differing in one character are different entries', async () => {
    h = await startHarness();
    const token = h.standIn.podToken(pod);
    const ok = await creds(h, token);
    // Same header and claims, another signature: the agent must not answer from the cache.
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const answer = await request(h.origin, { token: forged });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('(InvalidTokenException)');
    expect(answer.text).not.toContain(ok.key);
    expect(h.standIn.calls).toBe(2);
  });
});

describe('a token that ends like another pod’s', () => {
  it('gets nothing of that pod’s: same signature, other claims → EKS Auth decides', async () => {
    h = await startHarness();
    const victim = h.standIn.podToken({ namespace: 'bank', serviceAccount: 'vault' });
    const served = await creds(h, victim);
    const [header, , signature] = victim.split('.');
    const claims = Buffer.from(
      JSON.stringify({
        sub: 'system:serviceaccount:bank:vault',
        aud: ['pods.eks.amazonaws.com'],
        exp: Math.floor(h.clock.now() / 1000) + 3600,
        'kubernetes.io': {
          namespace: 'bank',
          serviceaccount: { name: 'vault' },
          pod: { name: 'x' },
        },
      }),
    ).toString('base64url');
    const forged = `${header}.${claims}.${signature}`;
    const answer = await request(h.origin, { token: forged });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('(InvalidTokenException)');
    expect(answer.text).not.toContain(served.key);
    // The victim's entry is untouched.
    expect((await creds(h, victim)).key).toBe(served.key);
    expect(h.standIn.callsFor(victim)).toBe(1);
  });
});

describe('renewal ahead of expiry', () => {
  it('renews 1 h credentials after half their life, and pods get the new ones', async () => {
    h = await startHarness({}, { credentialSeconds: 3600 });
    const token = h.standIn.podToken(pod);
    const first = await creds(h, token);
    h.clock.advance(29 * MIN);
    await h.agent.sweep();
    expect(h.standIn.calls).toBe(1);
    h.clock.advance(2 * MIN);
    await h.agent.sweep();
    expect(h.standIn.calls).toBe(2);
    const second = await creds(h, token);
    expect(second.key).not.toBe(first.key);
    expect(h.standIn.calls).toBe(2);
  });

  it('renews 6 h credentials after the 3 h retention (upstream default)', async () => {
    h = await startHarness();
    const token = h.standIn.podToken(pod);
    await creds(h, token);
    h.clock.advance(179 * MIN);
    await h.agent.sweep();
    expect(h.standIn.calls).toBe(1);
    h.clock.advance(2 * MIN);
    await h.agent.sweep();
    expect(h.standIn.calls).toBe(2);
  });

  it('renews at most --max-service-qps per second; the rest wait for a later sweep', async () => {
    h = await startHarness({
      refreshQps: 3,
      refreshRetryIntervalMs: MIN,
      refreshRetryJitterMs: MIN,
    });
    const tokens = Array.from({ length: 10 }, (_, i) =>
      h!.standIn.podToken({ namespace: 'qps', serviceAccount: `sa${i}` }),
    );
    for (const token of tokens) await creds(h, token);
    h.clock.advance(181 * MIN);
    await h.agent.sweep();
    expect(h.standIn.calls).toBe(13);
    await h.agent.sweep();
    expect(h.standIn.calls).toBe(13);
    expect(await metric(h, 'latchkey_agent_refreshes_total')).toContain('result="rate_limited"} 7');
    // A second later (real time, for the token bucket) and past the retry wait.
    await new Promise((r) => setTimeout(r, 1100));
    h.clock.advance(2 * MIN + 1000);
    await h.agent.sweep();
    expect(h.standIn.calls).toBe(16);
    for (const token of tokens) expect((await creds(h, token)).status).toBe(200);
    expect(h.standIn.calls).toBe(16);
  });
});

describe('EKS Auth outage: cached credentials keep being served until 15 s before expiry', () => {
  it('serves the old credentials through failed renewals, then fails once under 15 s', async () => {
    h = await startHarness(
      { refreshRetryIntervalMs: MIN, refreshRetryJitterMs: MIN },
      { credentialSeconds: 3600 },
    );
    const token = h.standIn.podToken(pod);
    const first = await creds(h, token);
    await h.standIn.stop();
    h.clock.advance(31 * MIN);
    await h.agent.sweep();
    expect((await creds(h, token)).key).toBe(first.key);
    expect(await metric(h, 'pod_identity_cache_errors')).toContain(
      'pod_identity_cache_errors{type="Recoverable",code="network"} 1',
    );
    // Retries keep failing; the credentials are still served with 16 s left.
    const left = () => Date.parse(JSON.parse(first.text).Expiration) - h!.clock.now();
    while (left() > 5 * MIN) {
      h.clock.advance(3 * MIN);
      await h.agent.sweep();
      expect((await creds(h, token)).key).toBe(first.key);
    }
    h.clock.advance(left() - 16_000);
    await h.agent.sweep();
    expect((await creds(h, token)).key).toBe(first.key);
    expect(h.agent.cacheSize()).toBe(1);
    h.clock.advance(2_000);
    const late = await creds(h, token);
    expect(late.status).toBe(500);
    expect(late.text).toContain('unable to fetch credentials from EKS Auth');
    expect(h.agent.cacheSize()).toBe(0);
    await h.standIn.restart();
    const back = await creds(h, token);
    expect(back.status).toBe(200);
    expect(back.key).not.toBe(first.key);
  });

  it.each([
    'ThrottlingException',
    'InternalServerException',
    'ServiceUnavailableException',
    'InvalidRequestException',
  ])('%s on renewal keeps the entry', async (code) => {
    h = await startHarness({ eksAuthMaxAttempts: 1 }, { credentialSeconds: 3600 });
    const token = h.standIn.podToken(pod);
    const first = await creds(h, token);
    h.standIn.outcomes.set(token, { kind: 'error', code });
    h.clock.advance(31 * MIN);
    await h.agent.sweep();
    expect(h.agent.cacheSize()).toBe(1);
    expect((await creds(h, token)).key).toBe(first.key);
    expect(h.standIn.calls).toBe(2);
  });
});

describe('irrecoverable errors evict', () => {
  it.each(['ExpiredTokenException', 'InvalidTokenException', 'AccessDeniedException'])(
    '%s on renewal evicts; the next request asks EKS Auth and gets its error',
    async (code) => {
      h = await startHarness({ eksAuthMaxAttempts: 1 });
      const token = h.standIn.podToken(pod);
      await creds(h, token);
      h.standIn.outcomes.set(token, { kind: 'error', code });
      h.clock.advance(181 * MIN);
      await h.agent.sweep();
      expect(h.agent.cacheSize()).toBe(0);
      expect(await metric(h, 'pod_identity_cache_errors')).toContain(
        `pod_identity_cache_errors{type="NonRecoverable",code="${code}"} 1`,
      );
      const answer = await creds(h, token);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain(`(${code})`);
      expect(h.standIn.calls).toBe(3);
    },
  );

  it('a deleted association (ResourceNotFoundException) is noticed at the next renewal', async () => {
    h = await startHarness({ eksAuthMaxAttempts: 1 });
    const token = h.standIn.podToken(pod);
    const other = h.standIn.podToken({ namespace: 'default', serviceAccount: 'other' });
    await creds(h, token);
    await creds(h, other);
    h.standIn.dissociate('default', 'app');
    // Before the renewal the agent still serves what it holds (the documented staleness window).
    expect((await creds(h, token)).status).toBe(200);
    h.clock.advance(181 * MIN);
    await h.agent.sweep();
    expect(h.agent.cacheSize()).toBe(1);
    const answer = await creds(h, token);
    expect(answer.status).toBe(404);
    expect(answer.text).toContain(
      '(ResourceNotFoundException): No Pod Identity Association found for service account app in namespace default., fault: client',
    );
    expect((await creds(h, other)).status).toBe(200);
  });
});

describe('bounds', () => {
  it('evicts the least recently used token beyond --max-cache-size', async () => {
    h = await startHarness({ maxCacheSize: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((sa) =>
      h!.standIn.podToken({ namespace: 'lru', serviceAccount: sa }),
    );
    await creds(h, a!);
    await creds(h, b!);
    await creds(h, a!); // a is now the most recent
    await creds(h, c!); // evicts b
    expect(h.standIn.calls).toBe(3);
    await creds(h, a!);
    expect(h.standIn.calls).toBe(3);
    await creds(h, b!);
    expect(h.standIn.calls).toBe(4);
    expect(h.agent.cacheSize()).toBe(2);
  });

  it('drops entries whose token has expired without calling EKS Auth', async () => {
    h = await startHarness();
    const token = h.standIn.podToken(pod, { lifetimeSeconds: 3600 });
    await creds(h, token);
    h.clock.advance(61 * MIN);
    await h.agent.sweep();
    expect(h.agent.cacheSize()).toBe(0);
    expect(h.standIn.calls).toBe(1);
    expect(await metric(h, 'latchkey_agent_cache_evictions_total')).toContain(
      'reason="token_expired"} 1',
    );
  });

  it('refuses a renewal rate that cannot keep up with the cache, as upstream', async () => {
    await expect(
      startAgent({
        server: 'http://127.0.0.1:1',
        cluster: 'dev',
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' },
        listen: '127.0.0.1:0',
        refreshQps: 1,
        maxCredentialRetentionSeconds: 100,
        maxCacheSize: 2000,
      }),
    ).rejects.toThrow(/refresh QPS is too small \(1\) or credential retention too short \(100s\)/);
    for (const bad of [
      { cluster: '-x' },
      { listen: '127.0.0.1' },
      { server: 'ftp://x' },
      { rateLimit: 0 },
    ]) {
      await expect(
        startAgent({
          server: 'http://127.0.0.1:1',
          cluster: 'dev',
          credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' },
          listen: '127.0.0.1:0',
          ...bad,
        }),
      ).rejects.toMatchObject({ name: 'AgentConfigError' });
    }
  });
});
