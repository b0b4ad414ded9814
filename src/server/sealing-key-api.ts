/**
 * `POST /_latchkey/api/sealing-keys/rotate` (Latchkey's API, signing name `latchkey`): starts
 * sealing session tokens with a new key. The replica that serves the call seals with it at once
 * and tells the others; tokens sealed with the previous keys keep opening for the overlap window.
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import { DEFAULT_ACCOUNT_ID } from '../iam/index.js';
import type { RestRoute } from '../protocol/index.js';
import { SEALING_OVERLAP_SECONDS, type SealingKeyring } from '../sessions/index.js';

/** The routes of sealing key management. */
export function sealingKeyRoutes(deps: {
  authorizer: Authorizer;
  /** Rotates the keyring (and tells the other replicas). */
  rotate: () => Promise<SealingKeyring>;
}): RestRoute[] {
  return [
    {
      method: 'POST',
      path: '/_latchkey/api/sealing-keys/rotate',
      operation: 'RotateSealingKey',
      async handler({ principal }) {
        // The keyring is the whole instance's: only principals of the first account may rotate it.
        if (principal.accountId !== DEFAULT_ACCOUNT_ID) {
          throw new AwsError(
            'AccessDenied',
            `User: ${principal.arn} is not authorized to rotate sealing keys: only principals of account ${DEFAULT_ACCOUNT_ID} may`,
          );
        }
        await deps.authorizer.authorize(principal, {
          action: 'latchkey:RotateSealingKey',
          resource: '*',
        });
        const keyring = await deps.rotate();
        const previousKeysValidUntil = new Date(
          Date.now() + SEALING_OVERLAP_SECONDS * 1000,
        ).toISOString();
        return { keyId: keyring.current.id, previousKeysValidUntil };
      },
    },
  ];
}
