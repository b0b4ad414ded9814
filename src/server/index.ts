export {
  buildApp,
  QUERY_BODY_LIMIT,
  toSigV4Request,
  type AppDeps,
  type LatchkeyApi,
} from './app.js';
export { startServer, type RunningServer, type ServerOptions } from './start.js';
