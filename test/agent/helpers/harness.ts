/**
 * An agent started through its public `startAgent` against an EKS Auth stand-in, with a clock
 * both share (tests move time), and raw HTTP requests with any Host and Authorization.
 */
import http from 'node:http';
import net from 'node:net';
import { pino } from 'pino';
import { startAgent, type AgentOptions, type RunningAgent } from '../../../src/agent/index.js';
import { EksAuthStandIn, type StandInOptions } from './eks-auth-stand-in.js';

/** A clock tests move by hand. */
export class TestClock {
  #offset = 0;
  readonly now = (): number => Date.now() + this.#offset;
  advance(ms: number): void {
    this.#offset += ms;
  }
}

/** A stand-in and an agent using it. */
export interface Harness {
  standIn: EksAuthStandIn;
  agent: RunningAgent;
  clock: TestClock;
  /** `http://127.0.0.1:PORT` of the (first) credentials listener. */
  origin: string;
  close(): Promise<void>;
}

/** Options with the test defaults: loopback, --local, no retries' waiting, silent logs. */
export async function startHarness(
  agentOptions: Partial<AgentOptions> = {},
  standInOptions: StandInOptions = {},
): Promise<Harness> {
  const clock = new TestClock();
  const standIn = await EksAuthStandIn.start({ clock: clock.now, ...standInOptions });
  const agent = await startAgent({
    server: standIn.url,
    cluster: standIn.cluster,
    region: standIn.region,
    credentials: standIn.nodeCredentials,
    listen: '127.0.0.1:0',
    local: true,
    eksAuthRetryBaseMs: 5,
    clock: clock.now,
    // The timer never fires during a test: tests sweep explicitly.
    sweepIntervalMs: 3_600_000,
    logger: pino({ level: 'silent' }),
    ...agentOptions,
  });
  const url = new URL(agent.credentialsUrls[0] ?? '');
  return {
    standIn,
    agent,
    clock,
    origin: url.origin,
    async close() {
      await agent.close();
      await standIn.close();
    },
  };
}

/** An answer of the agent. */
export interface AgentAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The parsed body when it is JSON. */
  json: Record<string, string> | undefined;
}

/** Options of a raw request. */
export interface RawRequest {
  /** `Authorization` value; omitted when undefined. */
  token?: string | undefined;
  /** `Host` header (default: the listener's `127.0.0.1:PORT`). */
  host?: string;
  path?: string;
  method?: string;
  /** Keep-alive agent to reuse connections (default: none). */
  agent?: http.Agent;
}

/** Sends one request to the agent with exactly the given Host and Authorization. */
export function request(origin: string, options: RawRequest = {}): Promise<AgentAnswer> {
  const url = new URL(options.path ?? '/v1/credentials', origin);
  const headers: Record<string, string> = {};
  if (options.host !== undefined) headers.host = options.host;
  if (options.token !== undefined) headers.authorization = options.token;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'GET',
        headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, string> | undefined;
          try {
            json = JSON.parse(text) as Record<string, string>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes (for request lines Node's client will not build) and returns the answer text. */
export function rawExchange(origin: string, bytes: string): Promise<string> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(url.port), url.hostname, () => socket.end(bytes));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}
