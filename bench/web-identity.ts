/**
 * STS AssumeRoleWithWebIdentity (issue 4): a service-account token of a Latchkey cluster
 * exchanged for a role's credentials over HTTP at 32 connections, each server in a child process,
 * alternating rounds, best of each:
 * - against a bare node:http server answering the same response body (goal ≥ 50%, p99 < 10 ms);
 * - with 10 roles in the account against 10,000 roles and 100 OIDC providers (IAM's quota per
 *   account): issuance latency one call at a time must not grow with the number of roles (goal:
 *   ratio at most 1.2); req/s at 32 connections and CPU per call shown beside it.
 * Auditing is on, as in production: each call commits its record before the credentials leave.
 */
import {
  alternate,
  CONNECTIONS,
  FORM,
  postOnce,
  ROUNDS,
  setUpWebIdentity,
  startBare,
  startLatchkey,
  httpSender,
  steadyP99Ms,
  type ChildServer,
} from './harness.js';
import type { BenchLine } from './report.js';

/** Calls per second for the steady-rate latency figure. */
const STEADY_RATE = 200;

export default async function bench(): Promise<BenchLine[]> {
  const servers: ChildServer[] = [];
  try {
    // The benchmark's own role is the 10th / 10,000th.
    const few = await startLatchkey({ fillerRoles: 9 });
    servers.push(few);
    const many = await startLatchkey({ fillerRoles: 9_999, fillerProviders: 99 });
    servers.push(many);
    const fewCall = await setUpWebIdentity(few);
    const manyCall = await setUpWebIdentity(many);
    const answer = await postOnce(few.url, fewCall.body);
    await postOnce(many.url, manyCall.body);
    const bare = await startBare(answer, { 'content-type': 'text/xml' });
    servers.push(bare);

    const r = await alternate({
      bare: { url: bare.url, pid: bare.pid, method: 'POST', headers: FORM, body: fewCall.body },
      few: { url: few.url, pid: few.pid, method: 'POST', headers: FORM, body: fewCall.body },
      many: { url: many.url, pid: many.pid, method: 'POST', headers: FORM, body: manyCall.body },
    });
    // Issuance latency, one call at a time: the mean is 1 / req/s (autocannon's percentiles
    // have 1 ms resolution).
    const one = await alternate(
      {
        few: { url: few.url, pid: few.pid, method: 'POST', headers: FORM, body: fewCall.body },
        many: { url: many.url, pid: many.pid, method: 'POST', headers: FORM, body: manyCall.body },
      },
      1,
    );
    const latency = { few: 1000 / one.few.reqPerSec, many: 1000 / one.many.reqPerSec };
    // Latency at a steady rate well above a large cluster's need (10,000 pods refreshing
    // hourly is ~3/s), beside the saturated figures above.
    const steady = { few: 0, bare: 0 };
    for (const [side, url] of [
      ['few', few.url],
      ['bare', bare.url],
    ] as const) {
      const sender = httpSender({ url, method: 'POST', headers: FORM, body: fewCall.body });
      try {
        steady[side] = await steadyP99Ms(sender.send, STEADY_RATE);
      } finally {
        sender.close();
      }
    }
    const name = `AssumeRoleWithWebIdentity, ${CONNECTIONS} connections (best of ${ROUNDS})`;
    return [
      {
        name: `${name}, 10 roles`,
        value: r.few.reqPerSec,
        unit: 'req/s',
        baseline: { name: 'bare node:http, same response body', value: r.bare.reqPerSec },
        goal: '≥ 50% of bare',
        met: r.few.reqPerSec / r.bare.reqPerSec >= 0.5,
      },
      {
        name: 'AssumeRoleWithWebIdentity latency p99, 10 roles',
        value: r.few.p99Ms,
        unit: 'ms',
        baseline: { name: 'bare node:http p99', value: r.bare.p99Ms },
        goal: '< 10 ms',
        met: r.few.p99Ms < 10,
      },
      {
        name: `AssumeRoleWithWebIdentity latency p99 at a steady ${STEADY_RATE}/s, 10 roles`,
        value: steady.few,
        unit: 'ms',
        baseline: { name: 'bare node:http p99 at the same rate', value: steady.bare },
        goal: '< 10 ms',
        met: steady.few < 10,
      },
      {
        name: 'issuance latency (mean, one call at a time), 10,000 roles and 100 providers',
        value: latency.many,
        unit: 'ms',
        baseline: { name: '10 roles', value: latency.few },
        goal: '≤ 1.2×',
        met: latency.many <= 1.2 * latency.few,
      },
      {
        name: `${name}, 10,000 roles and 100 providers`,
        value: r.many.reqPerSec,
        unit: 'req/s',
        baseline: { name: '10 roles', value: r.few.reqPerSec },
      },
      {
        name: 'AssumeRoleWithWebIdentity latency p99, 10,000 roles',
        value: r.many.p99Ms,
        unit: 'ms',
        baseline: { name: '10 roles p99', value: r.few.p99Ms },
      },
      {
        name: 'server CPU per AssumeRoleWithWebIdentity (user + system), 10,000 roles',
        value: r.many.cpuUs,
        unit: 'µs',
        baseline: { name: '10 roles', value: r.few.cpuUs },
      },
      {
        name: 'server CPU per request, 10 roles',
        value: r.few.cpuUs,
        unit: 'µs',
        baseline: { name: 'bare node:http', value: r.bare.cpuUs },
      },
    ];
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}
