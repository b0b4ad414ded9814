/**
 * The embedded SQLite store allows one server per data directory: a second one (in the same
 * process or another) is refused at once with an error naming the holder; the lock dies with
 * its process, even by `kill -9`.
 */
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/index.js';
import { DataDirInUseError } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runLatchkey, spawnServer } from './helpers/child-server.js';

const dir = tempDir();
afterAll(() => dir.remove());

const start = () =>
  startServer({ host: '127.0.0.1', port: 0, dataDir: dir.path, logger: pino({ level: 'silent' }) });

describe('one server per SQLite data directory', () => {
  it('refuses a second server in the same process, and allows it once the first closed', async () => {
    const first = await start();
    const t0 = performance.now();
    const err = await start().then(
      () => undefined,
      (e: unknown) => e,
    );
    // At once: no waiting on a busy timeout.
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(DataDirInUseError);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect((err as Error).message).toContain(dir.path);
    // The first one is unaffected.
    expect((await fetch(`${first.url}/_latchkey/healthz`)).status).toBe(200);
    await first.close();
    const again = await start();
    await again.close();
  });

  it('refuses a second process with a clear error, and the lock dies with a kill -9', async () => {
    const child = await spawnServer({ dataDir: dir.path });
    try {
      const second = await runLatchkey(['server', '--data-dir', dir.path, '--port', '0']);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('is in use by another Latchkey server');
      expect(second.stderr).toContain(`pid ${child.pid}`);
      await expect(start()).rejects.toThrow(`pid ${child.pid}`);
    } finally {
      await child.kill9();
    }
    // No stale lock to clean up by hand: the kernel released it with the process.
    const after = await start();
    await after.close();
  });
});
