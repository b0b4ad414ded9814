import { newAccessKeyId, newSecretAccessKey, type IamRole } from '../iam/index.js';
import type { XmlObject } from '../protocol/index.js';
import {
  assumedRoleArn,
  sealSession,
  type SealingKeyring,
  type Session,
} from '../sessions/index.js';

/** What a new role session is made of. */
export interface SessionRequest {
  role: IamRole;
  sessionName: string;
  durationSeconds: number;
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  sessionPolicy?: string | undefined;
  sessionPolicyArns: string[];
  sourceIdentity?: string | undefined;
  chainDepth: number;
  issuedBy: Session['issuedBy'];
  webIdentity?: Session['webIdentity'];
  associationId?: string;
}

/** Temporary credentials, ready for a response. */
export interface IssuedSession {
  session: Session;
  sessionToken: string;
}

/**
 * Issues temporary credentials for a role: a fresh `ASIA…` key and secret, and the sealed
 * session token that carries the whole session, so any replica can authenticate it.
 */
export function issueSession(
  keyring: SealingKeyring,
  request: SessionRequest,
  now = Date.now(),
): IssuedSession {
  const session: Session = {
    accessKeyId: newAccessKeyId('ASIA'),
    secretAccessKey: newSecretAccessKey(),
    accountId: request.role.accountId,
    roleArn: request.role.arn,
    roleId: request.role.roleId,
    sessionName: request.sessionName,
    ...(request.sourceIdentity === undefined ? {} : { sourceIdentity: request.sourceIdentity }),
    tags: request.tags,
    transitiveTagKeys: request.transitiveTagKeys,
    ...(request.sessionPolicy === undefined ? {} : { sessionPolicy: request.sessionPolicy }),
    sessionPolicyArns: request.sessionPolicyArns,
    chainDepth: request.chainDepth,
    issuedBy: request.issuedBy,
    ...(request.webIdentity === undefined ? {} : { webIdentity: request.webIdentity }),
    ...(request.associationId === undefined ? {} : { associationId: request.associationId }),
    issuedAt: now,
    expiresAt: now + request.durationSeconds * 1000,
  };
  return { session, sessionToken: sealSession(keyring, session) };
}

/** `Credentials` and `AssumedRoleUser` as STS's XML has them. */
export function sessionXml(issued: IssuedSession): XmlObject {
  const { session } = issued;
  return {
    Credentials: {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: issued.sessionToken,
      Expiration: new Date(session.expiresAt),
    },
    AssumedRoleUser: {
      AssumedRoleId: `${session.roleId}:${session.sessionName}`,
      Arn: assumedRoleArn(session),
    },
  };
}
