/**
 * `latchkey up` prints a one-time console sign-in link that works once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const ENTRY = join(import.meta.dirname, '../helpers/latchkey.ts');

describe('latchkey up', () => {
  const dir = tempDir();
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));
    }
    dir.remove();
  });

  it('prints the console link, good once', async () => {
    child = spawn(
      process.execPath,
      // No Pod Identity agent: its default port is fixed, and this test is about the console.
      ['--import', 'tsx', ENTRY, 'up', '--port', '0', '--no-agent', '--data-dir', dir.path],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LATCHKEY_LOG_LEVEL: 'warn' } },
    );
    let out = '';
    const link = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no link in: ${out}`)), 60_000);
      child?.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/_latchkey\/console\/sign-in\/link\?token=\S+)/.exec(
          out,
        );
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    expect(out).toContain('Web console (one-time sign-in link, good for 10 minutes)');
    const first = await fetch(link, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('set-cookie')).toMatch(/^latchkey_console=/);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
  });
});
