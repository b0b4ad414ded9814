/**
 * The node agent `latchkey up` runs next to the server, so EKS Pod Identity works on a laptop:
 * it serves the credentials endpoint on a loopback port for one cluster (created if missing),
 * signs EKS Auth calls with the data directory's admin profile, and records its URL in
 * `DATA_DIR/agent.url` (and the cluster in `DATA_DIR/agent.cluster`), where `latchkey exec`
 * finds it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startAgent, type RunningAgent } from '../agent/index.js';
import { DEFAULT_PROFILE, readProfile } from '../profiles/index.js';
import { callJson, callQuery } from './instance.js';

/** The cluster `latchkey up`'s agent serves unless `--cluster` says otherwise. */
export const DEFAULT_LOCAL_CLUSTER = 'local';

/** The port `latchkey up`'s agent listens on unless `--agent-port` says otherwise. */
export const DEFAULT_AGENT_PORT = 2702;

/** Where `latchkey up` records the local agent's URL (its origin, e.g. `http://127.0.0.1:2702`). */
export function agentUrlFile(dataDir: string): string {
  return join(dataDir, 'agent.url');
}

/** Where `latchkey up` records the cluster its agent serves. */
export function agentClusterFile(dataDir: string): string {
  return join(dataDir, 'agent.cluster');
}

/** The local agent as `latchkey up` recorded it, or undefined when none is recorded. */
export function readLocalAgent(dataDir: string): { url: string; cluster?: string } | undefined {
  const url = readTrimmed(agentUrlFile(dataDir));
  if (url === undefined) return undefined;
  const cluster = readTrimmed(agentClusterFile(dataDir));
  return cluster === undefined ? { url } : { url, cluster };
}

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** How to run the local agent. */
export interface LocalAgentOptions {
  /** The server's URL (EKS Auth). */
  serverUrl: string;
  dataDir: string;
  cluster: string;
  /** Loopback port; 0 picks a free one. */
  port: number;
  region?: string | undefined;
  logger?: Logger | undefined;
}

/** A running local agent. */
export interface LocalAgent {
  /** The agent's origin, e.g. `http://127.0.0.1:2702`. */
  url: string;
  /** Its credentials URL (`AWS_CONTAINER_CREDENTIALS_FULL_URI`). */
  credentialsUrl: string;
  cluster: string;
  /** True when the cluster did not exist and was created for the agent. */
  createdCluster: boolean;
  close(): Promise<void>;
}

/**
 * Starts the local agent: makes sure the cluster exists (EKS CreateCluster through the server),
 * listens on `127.0.0.1:port` in local mode, and records its URL in the data directory. The
 * files are removed again by `close()`.
 *
 * @example
 * const agent = await startLocalAgent({ serverUrl: server.url, dataDir: '.latchkey', cluster: 'local', port: 2702 });
 */
export async function startLocalAgent(options: LocalAgentOptions): Promise<LocalAgent> {
  const found = readProfile(options.dataDir, DEFAULT_PROFILE);
  if (found === undefined) {
    throw new Error(`no profile ${DEFAULT_PROFILE} in ${options.dataDir}/aws`);
  }
  const profile = { ...found, endpointUrl: options.serverUrl };
  let createdCluster = false;
  try {
    await callJson(profile, 'eks', 'GET', `/clusters/${encodeURIComponent(options.cluster)}`);
  } catch (err) {
    if (!String(err).includes('ResourceNotFoundException')) throw err;
    const account = String((await callQuery(profile, 'sts', 'GetCallerIdentity')).Account);
    await callJson(profile, 'eks', 'POST', '/clusters', {
      name: options.cluster,
      roleArn: `arn:aws:iam::${account}:role/eks-cluster-role`,
      resourcesVpcConfig: {},
    });
    createdCluster = true;
  }
  const agent: RunningAgent = await startAgent({
    server: options.serverUrl,
    cluster: options.cluster,
    region: options.region ?? profile.region,
    credentials: { accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey },
    listen: `127.0.0.1:${options.port}`,
    local: true,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const credentialsUrl = agent.credentialsUrls[0] ?? '';
  const url = new URL(credentialsUrl).origin;
  writeFileSync(agentUrlFile(options.dataDir), `${url}\n`);
  writeFileSync(agentClusterFile(options.dataDir), `${options.cluster}\n`);
  return {
    url,
    credentialsUrl,
    cluster: options.cluster,
    createdCluster,
    async close() {
      // Another `up` on the same data directory may have written its own URL since.
      if (readTrimmed(agentUrlFile(options.dataDir)) === url) {
        rmSync(agentUrlFile(options.dataDir), { force: true });
        rmSync(agentClusterFile(options.dataDir), { force: true });
      }
      await agent.close();
    },
  };
}

/** What `latchkey up` passes on. */
export interface UpAgentFlags {
  dataDir: string;
  cluster: string;
  agentPort: number;
}

/**
 * Starts the local agent next to a running server (for `latchkey up`), prints where it is, and
 * returns the server with a `close()` that stops the agent first.
 */
export async function withLocalAgent<S extends { url: string; close(): Promise<void> }>(
  server: S,
  flags: UpAgentFlags,
): Promise<S> {
  let agent: LocalAgent;
  try {
    agent = await startLocalAgent({
      serverUrl: server.url,
      dataDir: flags.dataDir,
      cluster: flags.cluster,
      port: flags.agentPort,
    });
  } catch (err) {
    await server.close();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `the Pod Identity agent could not start on 127.0.0.1:${flags.agentPort} (${reason}); choose another --agent-port or pass --no-agent`,
    );
  }
  console.log(
    `EKS Pod Identity agent for cluster ${agent.cluster}${agent.createdCluster ? ' (created)' : ''}: ${agent.credentialsUrl}\n` +
      `  (latchkey exec uses it for service accounts with a pod identity association)\n`,
  );
  const close = server.close.bind(server);
  return Object.assign(server, {
    async close() {
      await agent.close().catch(() => undefined);
      await close();
    },
  });
}
