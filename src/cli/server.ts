import type { Command } from 'commander';
import { profileExports } from '../profiles/index.js';
import { startServer, type RunningServer } from '../server/index.js';
import { parseRequestLimit, type RequestLimit } from '../throttle/index.js';
import {
  DEFAULT_AGENT_PORT,
  DEFAULT_LOCAL_CLUSTER,
  withLocalAgent,
  type UpAgentFlags,
} from './local-agent.js';
import { DEFAULT_DATA_DIR, parsePort } from './options.js';

interface ServerFlags {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  region: string;
  publicUrl?: string;
  auditRetentionDays: number;
  auditExportDir?: string;
  s3VirtualHostDomain?: string;
  requestLimit?: RequestLimit;
}

interface UpFlags extends UpAgentFlags {
  port: number;
  agent: boolean;
}

/** `latchkey server` and `latchkey up`. */
export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('Run the Latchkey server: one AWS-compatible endpoint for IAM, STS, EKS and S3.')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', parsePort, 4599)
    .option(
      '--data-dir <dir>',
      'data directory (SQLite store, keys, AWS CLI profile)',
      DEFAULT_DATA_DIR,
    )
    .option('--database-url <url>', 'use PostgreSQL (postgres://…) instead of embedded SQLite')
    .option('--region <region>', 'region of ARNs and of the AWS CLI profile', 'us-east-1')
    .option('--public-url <url>', 'URL clients reach this server at (OIDC issuers live below it)')
    .option('--audit-retention-days <days>', 'days audit records are kept', (v) => Number(v), 90)
    .option(
      '--audit-export-dir <dir>',
      'also write audit records as rotating JSONL files here (for a SIEM)',
    )
    .option(
      '--s3-virtual-host-domain <domain>',
      'S3 virtual-hosted style: requests to <bucket>.<domain> address that bucket',
    )
    .option(
      '--request-limit <rate[:burst]>',
      'requests per second each account may make to each service, per server (default: no limit)',
      parseRequestLimit,
    )
    .action(async (flags: ServerFlags) => {
      const server = await startServer(flags);
      await untilSignal(server);
    });

  program
    .command('up')
    .description(
      'Run everything on this machine for local use: the server on 127.0.0.1:4599, data in ./.latchkey.',
    )
    .option('--port <port>', 'port to listen on', parsePort, 4599)
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option(
      '--cluster <name>',
      'cluster the local Pod Identity agent serves (created if missing)',
      DEFAULT_LOCAL_CLUSTER,
    )
    .option(
      '--agent-port <port>',
      'loopback port of the Pod Identity agent (0: any free port)',
      parsePort,
      DEFAULT_AGENT_PORT,
    )
    .option('--no-agent', 'do not run the Pod Identity agent')
    .action(async (flags: UpFlags) => {
      const started = await startServer({
        host: '127.0.0.1',
        port: flags.port,
        dataDir: flags.dataDir,
      });
      const server = flags.agent ? await withLocalAgent(started, flags) : started;
      console.log(`\nLatchkey is up at ${server.url}. To use it with the AWS CLI and SDKs:\n`);
      console.log(profileExports(flags.dataDir));
      console.log('\nthen, for example:  aws sts get-caller-identity\n');
      const consoleUrl = await server.consoleSignInUrl();
      if (consoleUrl !== undefined) {
        console.log(`Web console (one-time sign-in link, good for 10 minutes):\n  ${consoleUrl}\n`);
      }
      await untilSignal(server);
    });
}

/** Keeps the process serving until SIGINT or SIGTERM, then closes cleanly. */
function untilSignal(server: RunningServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
