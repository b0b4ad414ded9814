import type { Session } from '../sessions/index.js';

/**
 * The authenticated caller, as every service sees it. Services receive a Principal from the
 * edge and never look at how it was authenticated.
 */
export interface Principal {
  /** CloudTrail's userIdentity.type. */
  type: 'IAMUser' | 'AssumedRole';
  accountId: string;
  /** `arn:aws:iam::ACCT:user/NAME` or `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`. */
  arn: string;
  /** `AIDA…` for users; `AROA…:SESSION` for role sessions. */
  principalId: string;
  /** The access key the request was signed with. */
  accessKeyId: string;
  /** IAM user name, for users. */
  userName?: string;
  /** The session, for temporary credentials (role, tags, session policies, chain depth). */
  session?: Session;
}

/** What an access key resolves to: its secret (to verify the signature) and its principal. */
export interface ResolvedCredential {
  secretAccessKey: string;
  principal: Principal;
}

/**
 * Finds the secret and principal of an access key id. Returns null for a key that does not
 * exist or is not active; implementations may throw an AwsError (e.g. ExpiredToken) when the
 * key exists but cannot be used.
 */
export interface CredentialResolver {
  resolve(
    accessKeyId: string,
    securityToken: string | undefined,
  ): Promise<ResolvedCredential | null>;
}

/** An action on a resource, as the policy engine judges it. */
export interface AuthorizationRequest {
  /** `service:Action`, e.g. `iam:CreateUser`. */
  action: string;
  /** The resource ARN, or `*`. */
  resource: string;
  /** The account that owns the resource (default: the caller's), for cross-account rules. */
  resourceAccount?: string;
  /** The resource's own policy (e.g. a bucket policy), JSON text, when it has one. */
  resourcePolicy?: string;
  /**
   * The ARN of what the resource policy belongs to, when not the resource itself (an object's
   * bucket): names the policy in decisions, and lets every object share one compiled policy.
   */
  resourcePolicyOwner?: string;
  /**
   * Request-specific condition keys (e.g. `s3:prefix`, `aws:SourceIp`); the authorizer adds the
   * keys it derives from the principal (aws:PrincipalArn, aws:PrincipalTag/…, …).
   */
  context?: Readonly<Record<string, string | string[]>>;
  /** A denial's message quotes the resource ARN, as S3's AccessDenied messages do. */
  quoteResource?: boolean;
}

/** Decides whether a principal may perform an action; throws AccessDenied when not. */
export interface Authorizer {
  authorize(principal: Principal, request: AuthorizationRequest): Promise<void>;
}
