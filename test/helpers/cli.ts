/** Runs the `latchkey` command from source, as a user runs it, in a child process. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ENTRY = join(import.meta.dirname, 'latchkey.ts');

/** What a command did. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `latchkey ARGS --data-dir DIR` (the flag goes before any `--`, so `exec`'s command is
 * left alone). A non-zero exit is a result, not an error.
 *
 * @example
 * const { code, stdout } = await runLatchkey(dir, ['cluster', 'list', '--json']);
 */
export async function runLatchkey(
  dataDir: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const dash = args.indexOf('--');
  const withDir =
    dash < 0
      ? [...args, '--data-dir', dataDir]
      : [...args.slice(0, dash), '--data-dir', dataDir, ...args.slice(dash)];
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      ['--import', 'tsx', ENTRY, ...withDir],
      {
        timeout: options.timeoutMs ?? 90_000,
        ...(options.env ? { env: options.env } : {}),
      },
    );
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
