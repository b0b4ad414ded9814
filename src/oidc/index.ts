export { discoveryDocument, jwksDocument, JWKS_PATH } from './discovery.js';
export {
  DEFAULT_OVERLAP_SECONDS,
  IssuerKeys,
  MAX_PUBLISHED_KEYS,
  type IssuerAlgorithm,
  type IssuerKeyInfo,
  type IssuerSigningKey,
} from './issuer-keys.js';
export {
  MAX_TOKEN_SECONDS,
  MIN_TOKEN_SECONDS,
  mintServiceAccountToken,
  type ServiceAccountTokenRequest,
} from './service-account-token.js';
export { classifyAddress, isFetchableAddress, type AddressClass } from './address-policy.js';
export {
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  GuardedFetchError,
  guardedGet,
  resolveFetchTarget,
  type FetchTarget,
  type FetchTargetOptions,
  type GuardedFetchFailure,
  type GuardedGetOptions,
  type GuardedResponse,
  type ResolveAll,
} from './fetch-guard.js';
export {
  JwksFormatError,
  LocalKeySet,
  MAX_JWKS_KEYS,
  parseJwks,
  SUPPORTED_WEB_IDENTITY_ALGORITHMS,
  type KeySelector,
  type KeySetSource,
  type WebIdentityAlgorithm,
} from './key-set.js';
export { OwnIssuerKeySet } from './own-key-set.js';
export { checkIssuerUrl, RemoteKeySet, type RemoteKeySetOptions } from './remote-key-set.js';
export { MAX_REMOTE_ISSUERS, RemoteKeySets } from './remote-key-sets.js';
export {
  AWS_WEB_IDENTITY_ALGORITHMS,
  checkWebIdentityTokenLength,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  verifyWebIdentityToken,
  WEB_IDENTITY_TOKEN_MAX_LENGTH,
  WEB_IDENTITY_TOKEN_MIN_LENGTH,
  type VerifiedWebIdentity,
  type VerifyWebIdentityOptions,
} from './verify-web-identity.js';
export { toEksAuthError, WebIdentityMessages } from './web-identity-errors.js';
