/**
 * The EKS Pod Identity node agent: serves `GET /v1/credentials` to pods, exchanging each pod's
 * projected service-account token for its association's credentials at EKS Auth
 * (`AssumeRoleForPodIdentity`), with a cache renewed ahead of expiry. See docs/agent.md.
 */
export { startAgent, type RunningAgent } from './start.js';
export { AGENT_DEFAULTS, type AgentOptions } from './options.js';
export {
  EksAuthClient,
  type EksAuthClientOptions,
  type SigningCredentials,
  type SigningCredentialsSource,
} from './eks-auth-client.js';
export type { PodCredentials } from './credentials.js';
export {
  AgentConfigError,
  AgentInternalError,
  AgentRequestError,
  EksAuthError,
  EksAuthTransportError,
  IRRECOVERABLE_EKS_AUTH_CODES,
  type EksAuthTransportFailure,
} from './errors.js';
export { AGENT_HOSTS, LOOPBACK_HOSTS } from './host-guard.js';
export {
  credentialsFromEnv,
  credentialsFromProfile,
  type NodeIdentity,
} from './signing-credentials.js';
