export { loadMasterKey, MASTER_KEY_BYTES } from './master-key.js';
export { openSecret, sealSecret } from './sealed-secret.js';
export { randomBytesPooled } from './random-bytes.js';
