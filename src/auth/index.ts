export type {
  AuthorizationRequest,
  Authorizer,
  CredentialResolver,
  Principal,
  ResolvedCredential,
} from './principal.js';
export { authenticateRequest, type AuthenticateOptions } from './authenticate.js';
