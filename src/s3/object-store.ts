/**
 * Object bytes on the filesystem. Every version of an object (and every uploaded part) is a
 * *blob*: an immutable file named by a random id, `DIR/objects/blobs/ab/cd/abcd…`. User keys
 * never become paths. A blob is written as a temporary file in `DIR/objects/tmp/` (same
 * filesystem), flushed to disk, then renamed into place and its directory flushed; the store
 * row that names it is committed after that, and the blob it replaced is removed last. So a
 * failed or interrupted write leaves the previous version untouched and no partial object.
 */
import { randomBytesPooled } from '../secrets/index.js';
import {
  close as closeCb,
  constants,
  createWriteStream,
  fsync as fsyncCb,
  open as openCb,
  read as readCb,
  type ReadStream,
} from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';

// Numeric descriptors for temporary files (a stream over a FileHandle keeps the handle busy, so
// it could not be flushed and closed after the stream finished) and for small reads.
const openFd = promisify(openCb);
const fsyncFd = promisify(fsyncCb);
const closeFd = promisify(closeCb);
const readFd = promisify(readCb);

/** Temporary files older than this are left-overs of a crash and are swept at start. */
const TEMP_MAX_AGE_MS = 24 * 3600 * 1000;
/** Read size when streaming a blob out: large enough for throughput, small for memory. */
const READ_CHUNK = 256 * 1024;

/** A temporary file being written; {@link ObjectStore.commit} makes it a blob. */
export interface TempFile {
  readonly path: string;
  /** Where the bytes go (does not close the file on finish). */
  readonly stream: Writable;
  readonly fd: number;
}

/** The blob directory of one data directory. */
export class ObjectStore {
  readonly #blobs: string;
  readonly #tmp: string;
  readonly #madeDirs = new Set<string>();

  constructor(dataDir: string) {
    this.#blobs = join(dataDir, 'objects', 'blobs');
    this.#tmp = join(dataDir, 'objects', 'tmp');
  }

  /** Creates the directories and removes temporary files left by a crash (older than a day). */
  async init(): Promise<void> {
    await mkdir(this.#blobs, { recursive: true, mode: 0o700 });
    await mkdir(this.#tmp, { recursive: true, mode: 0o700 });
    const now = Date.now();
    for (const name of await readdir(this.#tmp)) {
      const path = join(this.#tmp, name);
      // Other replicas may share the directory: only files clearly abandoned go.
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > TEMP_MAX_AGE_MS) await rm(path, { force: true });
    }
  }

  /** Opens a new temporary file for writing. */
  async createTemp(): Promise<TempFile> {
    const path = join(this.#tmp, `${randomBytesPooled(16).toString('hex')}.tmp`);
    const fd = await openFd(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    const stream = createWriteStream('', { fd, autoClose: false, highWaterMark: 1024 * 1024 });
    return { path, stream, fd };
  }

  /**
   * Makes a fully written temporary file a blob: flushes it, renames it into the blob tree and
   * flushes the directory. Returns the blob id. The temporary file is gone either way.
   */
  async commit(temp: TempFile): Promise<string> {
    try {
      await fsyncFd(temp.fd);
    } finally {
      await closeFd(temp.fd).catch(() => {});
    }
    const id = randomBytesPooled(16).toString('hex');
    const dir = await this.#shardDir(id);
    try {
      await rename(temp.path, join(dir, id));
    } catch (err) {
      await unlink(temp.path).catch(() => {});
      throw err;
    }
    await syncDir(dir);
    return id;
  }

  /** Removes a temporary file that will not be committed (after a failure). */
  async discard(temp: TempFile): Promise<void> {
    // Destroying the stream closes its descriptor (a failed pipeline already did).
    const stream = temp.stream;
    if (!stream.closed) {
      const closed = new Promise((resolve) => stream.once('close', resolve));
      stream.on('error', () => {});
      stream.destroy();
      await closed;
    }
    await unlink(temp.path).catch(() => {});
  }

  /** Removes a blob (a replaced or deleted version); a missing blob is not an error. */
  async remove(id: string): Promise<void> {
    await unlink(this.#path(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Opens a blob for reading; rejects with ENOENT when it was replaced meanwhile. */
  async openBlob(id: string): Promise<FileHandle> {
    return open(this.#path(id), constants.O_RDONLY);
  }

  /**
   * Bytes `[start, end]` (inclusive) of a blob, read at once; rejects with ENOENT when it was
   * replaced meanwhile. For small reads, where a stream's machinery cost more than the read
   * itself, and through numeric descriptors: a FileHandle's open, read and close cost twice the
   * CPU of the same calls on a descriptor (bench/).
   */
  async readBlobRange(id: string, start: number, end: number): Promise<Buffer> {
    const fd = await openFd(this.#path(id), constants.O_RDONLY);
    try {
      const bytes = Buffer.allocUnsafe(end - start + 1);
      for (let at = 0; at < bytes.length;) {
        const { bytesRead } = await readFd(fd, bytes, at, bytes.length - at, start + at);
        if (bytesRead === 0) throw new Error('blob shorter than its metadata says');
        at += bytesRead;
      }
      return bytes;
    } finally {
      // Nothing waits for the close: the bytes are read.
      closeCb(fd, () => {});
    }
  }

  /** A stream of `[start, end]` (inclusive; default: to the end) of an open blob; closes the handle when done. */
  readStream(handle: FileHandle, start = 0, end?: number): ReadStream {
    return handle.createReadStream({
      start,
      ...(end === undefined ? {} : { end }),
      highWaterMark: READ_CHUNK,
      autoClose: true,
    });
  }

  #path(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`not a blob id: ${id}`);
    return join(this.#blobs, id.slice(0, 2), id.slice(2, 4), id);
  }

  async #shardDir(id: string): Promise<string> {
    const dir = join(this.#blobs, id.slice(0, 2), id.slice(2, 4));
    if (!this.#madeDirs.has(dir)) {
      const created = await mkdir(dir, { recursive: true, mode: 0o700 });
      // A new directory's own entry must reach the disk too.
      if (created !== undefined) {
        await syncDir(join(dir, '..'));
        await syncDir(join(dir, '..', '..'));
      }
      this.#madeDirs.add(dir);
    }
    return dir;
  }
}

/** Flushes a directory's entries (a rename is durable only once its directory is). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
