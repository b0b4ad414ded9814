/**
 * Latchkey's public API for embedding: start a server, or use its parts directly.
 */
export { AwsError, isAwsError, type AwsErrorCode } from './errors/index.js';
export { startServer, type RunningServer, type ServerOptions } from './server/index.js';
export { openStore, type Store, type StoreOptions } from './store/index.js';
