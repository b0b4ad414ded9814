import type { CredentialResolver, ResolvedCredential } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { SessionRevocations } from './revocations.js';
import { openSession, sealedKeyId, type SealingKeyring } from './seal.js';
import { assumedRoleArn, type Session } from './session.js';

/** The revocation scopes a session falls under. */
export function revocationScopes(session: Session): string[] {
  const scopes = [`role:${session.roleArn}`];
  if (session.associationId !== undefined) scopes.push(`association:${session.associationId}`);
  return scopes;
}

/**
 * Resolves temporary credentials (`ASIA…` with a session token) by opening the sealed token:
 * no store read. Expired sessions fail with ExpiredToken; tampered, foreign or revoked ones
 * with InvalidClientTokenId.
 */
export class SessionCredentialResolver implements CredentialResolver {
  constructor(
    private readonly keyring: () => SealingKeyring,
    private readonly revocations: SessionRevocations,
    /**
     * Asked when a token names a key the keyring lacks (another replica may have just rotated):
     * true once the key is loaded.
     */
    private readonly knowsKey?: (kid: string) => Promise<boolean>,
  ) {}

  async resolve(
    accessKeyId: string,
    securityToken: string | undefined,
  ): Promise<ResolvedCredential | null> {
    if (!accessKeyId.startsWith('ASIA') || securityToken === undefined) return null;
    const kid = sealedKeyId(securityToken);
    if (kid !== undefined && this.knowsKey && !this.keyring().byId.has(kid)) {
      if (!(await this.knowsKey(kid))) return null;
    }
    const session = openSession(this.keyring(), accessKeyId, securityToken);
    if (session === null) return null;
    if (session.expiresAt <= Date.now()) {
      throw new AwsError('ExpiredToken', 'The security token included in the request is expired');
    }
    if (await this.revocations.isRevoked(revocationScopes(session), session.issuedAt)) return null;
    return {
      secretAccessKey: session.secretAccessKey,
      principal: {
        type: 'AssumedRole',
        accountId: session.accountId,
        arn: assumedRoleArn(session),
        principalId: `${session.roleId}:${session.sessionName}`,
        accessKeyId,
        session,
      },
    };
  }
}
