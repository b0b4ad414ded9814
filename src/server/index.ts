export { API_BODY_LIMIT, buildApp, type AppDeps, type IssuerDocuments } from './app.js';
export { startServer, type RunningServer, type ServerOptions } from './start.js';
