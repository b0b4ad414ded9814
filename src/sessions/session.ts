/**
 * A temporary-credential session: everything a replica needs to authenticate and authorize a
 * request signed with `ASIA…` credentials, carried inside the session token itself.
 */
export interface Session {
  /** The `ASIA…` access key id the session was issued with. */
  accessKeyId: string;
  /** The 40-character secret; lives only inside the sealed token. */
  secretAccessKey: string;
  accountId: string;
  /** The role: `arn:aws:iam::ACCT:role/PATH/NAME`. */
  roleArn: string;
  /** The role's unique id (`AROA…`). */
  roleId: string;
  sessionName: string;
  sourceIdentity?: string;
  /** Session tags (aws:PrincipalTag/*). */
  tags: Record<string, string>;
  /** Tag keys (lower-cased) that pass on when this session assumes another role. */
  transitiveTagKeys: string[];
  /** Inline session policy, as given (JSON text). */
  sessionPolicy?: string;
  /** Managed session policy ARNs. */
  sessionPolicyArns: string[];
  /** 0 for a session from user credentials or a web identity; 1+ for role chaining. */
  chainDepth: number;
  /** How the session was made: the STS operation, for CloudTrail and aws:… keys. */
  issuedBy: 'AssumeRole' | 'AssumeRoleWithWebIdentity' | 'AssumeRoleForPodIdentity';
  /** The pod identity association the session was issued for (revocable with it). */
  associationId?: string;
  /** Web identity facts (provider ARN, sub, aud) when issued from a token. */
  webIdentity?: { provider: string; subject: string; audience: string };
  /** Epoch milliseconds. */
  issuedAt: number;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** The ARN a session acts as: `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`. */
export function assumedRoleArn(
  session: Pick<Session, 'accountId' | 'roleArn' | 'sessionName'>,
): string {
  const roleName = session.roleArn.slice(session.roleArn.lastIndexOf('/') + 1);
  return `arn:aws:sts::${session.accountId}:assumed-role/${roleName}/${session.sessionName}`;
}
