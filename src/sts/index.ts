export { createStsQueryService, STS_NAMESPACE, type StsDeps } from './query-api.js';
export {
  issueSession,
  sessionXml,
  type IssuedSession,
  type SessionRequest,
} from './issue-session.js';
export type { TrustEvaluator, TrustPrincipal, TrustRequest } from './trust.js';
