export { assumedRoleArn, type Session } from './session.js';
export {
  newSealingKey,
  openSession,
  sealSession,
  type SealingKey,
  type SealingKeyring,
} from './seal.js';
