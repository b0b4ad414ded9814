/**
 * Watching files for changes: certificates, service-account files and association files are
 * reloaded without a restart. Watches the parent directories (Kubernetes updates mounted
 * Secrets and ConfigMaps by swapping a `..data` symlink, which a watch on the file itself
 * misses) and compares each file's identity, with a slow poll as a safety net.
 */
import { statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from './errors.js';

/** A running watch. */
export interface FileWatch {
  close(): void;
}

/** Options of {@link watchFiles}. */
export interface WatchFilesOptions {
  /** Quiet time before reacting, so a writer's several events make one reload. */
  debounceMs?: number;
  /** Interval of the fallback poll; 0 disables it. */
  pollMs?: number;
  /** Called when a watch or callback fails (the watch keeps going). */
  onError?: (err: unknown) => void;
}

const describe = (s: Stats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;

async function identity(path: string): Promise<string> {
  try {
    return describe(await stat(path));
  } catch {
    return 'missing';
  }
}

function identitySync(path: string): string {
  try {
    return describe(statSync(path));
  } catch {
    return 'missing';
  }
}

/**
 * Calls `onChange` after any of `paths` changes (content, replacement or symlink swap).
 *
 * @example
 * const w = watchFiles(['/etc/webhook/tls.crt', '/etc/webhook/tls.key'], reload);
 * // later
 * w.close();
 */
export function watchFiles(
  paths: readonly string[],
  onChange: () => void | Promise<void>,
  options: WatchFilesOptions = {},
): FileWatch {
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 10_000;
  const files = paths.map((p) => resolve(p));
  const last = new Map<string, string>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const check = async () => {
    let changed = false;
    for (const file of files) {
      const id = await identity(file);
      if (last.get(file) !== id) {
        last.set(file, id);
        changed = true;
      }
    }
    if (changed && !closed) await onChange();
  };
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      // Serialise checks so two reloads never interleave.
      running = running.then(check).catch((err: unknown) => options.onError?.(err));
    }, debounceMs);
    timer.unref();
  };

  for (const f of files) last.set(f, identitySync(f));

  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, schedule);
      w.on('error', (err) => options.onError?.(err));
      watchers.push(w);
    } catch (err) {
      options.onError?.(err);
    }
  }
  const poll = pollMs > 0 ? setInterval(schedule, pollMs) : undefined;
  poll?.unref();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}

/**
 * Reloads one file with `load` whenever it changes. A reload that fails is logged and the
 * previous contents stay in use.
 *
 * @example
 * this.#watch = reloadOnChange(path, () => this.#load(), { logger, what: 'service accounts file' });
 */
export function reloadOnChange(
  path: string,
  load: () => Promise<void>,
  options: { logger: Logger; what: string; debounceMs?: number | undefined },
): FileWatch {
  const { logger, what } = options;
  return watchFiles(
    [path],
    async () => {
      try {
        await load();
      } catch (err) {
        logger.error(
          { file: path, err: errorMessage(err) },
          `${what} not reloaded; keeping the previous contents`,
        );
      }
    },
    {
      debounceMs: options.debounceMs ?? 100,
      onError: (err) => logger.warn({ err: errorMessage(err) }, 'file watch error'),
    },
  );
}
