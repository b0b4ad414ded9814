import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  upsertParameters,
  upsertStatement,
  type AuditRow,
  type AuditRowWriter,
} from './row-writer.js';

/**
 * The worker's program (CommonJS, run with `eval`: it needs no file of its own, so it runs the
 * same from dist/, under tsx and bundled). It holds its own connection to the store's SQLite
 * file and runs each batch's upsert — one transaction, one fsync — then answers with the
 * batch's id.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
const statements = new Map();
parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    let statement = statements.get(message.sql);
    if (statement === undefined) {
      if (statements.size >= 64) statements.delete(statements.keys().next().value);
      statement = db.prepare(message.sql);
      statements.set(message.sql, statement);
    }
    statement.run(message.params);
    parentPort.postMessage({ id: message.id });
  } catch (err) {
    parentPort.postMessage({ id: message.id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
`;

interface WorkerAnswer {
  id: number;
  error?: { message: string; code?: string };
}

interface PendingBatch {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Commits audit rows to the store's SQLite file from a worker thread with its own connection.
 * better-sqlite3 is synchronous, so on the main connection every commit's fsync would stall
 * the event loop — and with it every request, audited or not; here the main thread only hands
 * the rows over. The worker starts with the first batch, and again after a crash (the batches
 * it held are rejected: their calls fail closed).
 */
export class SqliteRowWriter implements AuditRowWriter {
  readonly #pending = new Map<number, PendingBatch>();
  #worker: Worker | undefined;
  #lastId = 0;
  #closed = false;

  /** @param file The store's SQLite file (WAL mode, set by the store's own connection). */
  constructor(private readonly file: string) {}

  write(rows: AuditRow[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('The audit writer is closed.'));
    const worker = (this.#worker ??= this.#start());
    const id = ++this.#lastId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, sql: upsertStatement(rows.length), params: upsertParameters(rows) });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (worker === undefined) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ close: true });
    await exited;
  }

  #start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, driver },
    });
    // An idle writer does not keep the process alive; pending batches belong to requests, whose
    // sockets do.
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => {
      const batch = this.#pending.get(answer.id);
      if (batch === undefined) return;
      this.#pending.delete(answer.id);
      if (answer.error === undefined) batch.resolve();
      else
        batch.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
    });
    const lost = (err: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const batch of this.#pending.values()) batch.reject(err);
      this.#pending.clear();
    };
    worker.on('error', lost);
    worker.on('exit', () => lost(new Error('The audit writer stopped.')));
    return worker;
  }
}
