export { SEALING_OVERLAP_SECONDS, SealingKeyStore } from './keyring-store.js';
export { LiveKeyring } from './live-keyring.js';
export { revocationScopes, SessionCredentialResolver } from './resolver.js';
export { SessionRevocations } from './revocations.js';
export { assumedRoleArn, type Session } from './session.js';
export {
  newSealingKey,
  openSession,
  sealedKeyId,
  sealSession,
  type SealingKey,
  type SealingKeyring,
} from './seal.js';
