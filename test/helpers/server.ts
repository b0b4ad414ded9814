import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { awsCliFiles, readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { tempDir } from './tmp.js';

const exec = promisify(execFile);

/** A server on a free loopback port with a fresh data directory. */
export interface TestServer {
  server: RunningServer;
  dataDir: string;
  /** The first account's admin profile, as written on first start. */
  admin: Profile;
  /** Environment for AWS CLI / boto3 child processes: only the profile files are set. */
  cliEnv(profile?: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts a server for one test file. */
export async function startTestServer(
  options: { databaseUrl?: string; auditExportDir?: string; s3VirtualHostDomain?: string } = {},
): Promise<TestServer> {
  const dir = tempDir();
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir.path,
    databaseUrl: options.databaseUrl,
    auditExportDir: options.auditExportDir,
    s3VirtualHostDomain: options.s3VirtualHostDomain,
    logger: pino({ level: 'silent' }),
  });
  const admin = readProfile(dir.path, 'latchkey');
  if (admin === undefined) throw new Error('first start wrote no profile');
  return {
    server,
    dataDir: dir.path,
    admin,
    cliEnv: (profile = 'latchkey') =>
      cleanAwsEnv({
        AWS_CONFIG_FILE: awsCliFiles(dir.path).config,
        AWS_SHARED_CREDENTIALS_FILE: awsCliFiles(dir.path).credentials,
        AWS_PROFILE: profile,
      }),
    async stop() {
      await server.close();
      dir.remove();
    },
  };
}

/** The parent environment without any AWS_* variable, plus `extra`. */
export function cleanAwsEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}

/** Runs the AWS CLI (v1, from the machine's Python) and returns its exit code and output. */
export async function runAwsCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('aws', args, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

/** Runs a Python snippet (boto3) and returns its stdout; `input` is written to its stdin. */
export async function runPython(
  code: string,
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<string> {
  const child = exec('python3', ['-c', code], { env, timeout: 60_000 });
  if (input !== undefined) child.child.stdin?.end(input);
  else child.child.stdin?.end();
  const { stdout } = await child;
  return stdout;
}
