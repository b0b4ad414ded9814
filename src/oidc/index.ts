export { discoveryDocument, jwksDocument, JWKS_PATH } from './discovery.js';
export {
  DEFAULT_OVERLAP_SECONDS,
  IssuerKeys,
  MAX_PUBLISHED_KEYS,
  type IssuerAlgorithm,
  type IssuerSigningKey,
} from './issuer-keys.js';
export {
  MAX_TOKEN_SECONDS,
  MIN_TOKEN_SECONDS,
  mintServiceAccountToken,
  type ServiceAccountTokenRequest,
} from './service-account-token.js';
