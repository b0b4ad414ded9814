/**
 * Table types of the store. Times are ISO-8601 strings (UTC, millisecond precision) so they
 * sort and compare the same way on SQLite and PostgreSQL.
 */
import type { Generated } from 'kysely';
import type { S3Tables } from '../s3/index.js';

export interface AccountTable {
  account_id: string;
  created_at: string;
}

export interface IamUserTable {
  account_id: string;
  /** The name as given; IAM names are unique case-insensitively, see `name_key`. */
  user_name: string;
  name_key: string;
  user_id: string;
  path: string;
  created_at: string;
}

export interface AccessKeyTable {
  access_key_id: string;
  account_id: string;
  user_name: string;
  /** The secret access key, sealed with the master key (see src/secrets). */
  secret_sealed: string;
  status: 'Active' | 'Inactive';
  created_at: string;
}

export interface UserPolicyAttachmentTable {
  account_id: string;
  user_name_key: string;
  policy_arn: string;
  attached_at: string;
}

/** The whole schema, as Kysely sees it (the S3 store's tables are defined beside it). */
export interface Database extends S3Tables {
  accounts: AccountTable;
  iam_users: IamUserTable;
  access_keys: AccessKeyTable;
  user_policy_attachments: UserPolicyAttachmentTable;
  eks_clusters: EksClusterTable;
  oidc_signing_keys: OidcSigningKeyTable;
  iam_oidc_providers: IamOidcProviderTable;
  iam_roles: IamRoleTable;
  iam_inline_policies: IamInlinePolicyTable;
  iam_managed_policies: IamManagedPolicyTable;
  iam_policy_versions: IamPolicyVersionTable;
  iam_role_policy_attachments: IamRolePolicyAttachmentTable;
  sealing_keys: SealingKeyTable;
  session_revocations: SessionRevocationTable;
  audit_events: AuditEventTable;
  pod_identity_associations: PodIdentityAssociationTable;
  service_accounts: ServiceAccountTable;
  console_sign_in_links: ConsoleSignInLinkTable;
  console_revoked_sessions: ConsoleRevokedSessionTable;
}

export interface EksClusterTable {
  account_id: string;
  name: string;
  /** 32 upper-case hex characters: the last segment of the issuer URL, as EKS's `id/…`. */
  issuer_id: string;
  issuer_url: string;
  role_arn: string;
  version: string;
  /** JSON of resourcesVpcConfig as given. */
  vpc_config: string;
  /** JSON object of tags. */
  tags: string;
  created_at: string;
  /** `latchkey`: Latchkey's own issuer signs; `external`: a real cluster's issuer (registered). */
  issuer_kind: Generated<'latchkey' | 'external'>;
  /** External clusters: the pinned JWKS (JSON of the verification keys), or null to fetch it. */
  jwks: Generated<string | null>;
}

export interface OidcSigningKeyTable {
  kid: string;
  issuer_id: string;
  alg: 'RS256' | 'ES256';
  /** The private JWK, sealed with the master key (context: the kid). */
  private_jwk_sealed: string;
  /** The public JWK as published. */
  public_jwk: string;
  created_at: string;
  /** Null while the key signs; set at rotation to when it leaves the JWKS. */
  retire_after: string | null;
}

export interface IamOidcProviderTable {
  account_id: string;
  /** The URL without its scheme, as in the provider ARN: `host[:port]/path`. */
  url: string;
  /** `https` (or `http` for issuers this Latchkey serves itself). */
  scheme: string;
  /** JSON array of client ids (audiences). */
  client_ids: string;
  /** JSON array of 40-hex-character thumbprints. */
  thumbprints: string;
  /** JSON object of tags. */
  tags: string;
  created_at: string;
}

export interface IamRoleTable {
  account_id: string;
  role_name: string;
  name_key: string;
  role_id: string;
  path: string;
  /** The trust (assume-role) policy, as given. */
  trust_policy: string;
  description: string | null;
  max_session_duration: number;
  permissions_boundary: string | null;
  /** JSON object of tags. */
  tags: string;
  created_at: string;
}

export interface IamInlinePolicyTable {
  account_id: string;
  /** `role` or `user`. */
  principal_kind: string;
  principal_name_key: string;
  policy_name: string;
  policy_name_key: string;
  document: string;
}

export interface IamManagedPolicyTable {
  account_id: string;
  policy_name: string;
  name_key: string;
  policy_id: string;
  path: string;
  description: string | null;
  default_version: string;
  /** The number the next version gets (v1, v2, … never reused). */
  next_version: number;
  tags: string;
  created_at: string;
  updated_at: string;
}

export interface IamPolicyVersionTable {
  account_id: string;
  policy_name_key: string;
  version_id: string;
  document: string;
  created_at: string;
}

export interface IamRolePolicyAttachmentTable {
  account_id: string;
  role_name_key: string;
  policy_arn: string;
  attached_at: string;
}

export interface SealingKeyTable {
  kid: string;
  /** The 32-byte AES key, sealed with the master key (context: the kid). */
  key_sealed: string;
  created_at: string;
  /** Null for the key that seals new tokens; set when rotated out. */
  retire_after: string | null;
}

export interface SessionRevocationTable {
  /** What is revoked: `role:<role ARN>` or `association:<id>`. */
  scope: string;
  /** Sessions issued before this instant fail. */
  revoked_before: string;
}

export interface AuditEventTable {
  event_id: string;
  event_time: string;
  event_source: string;
  event_name: string;
  /** The account whose trail holds the record (recipientAccountId). */
  account_id: string;
  principal_arn: string | null;
  /** CloudTrail's Username: the IAM user name, or the role session name. */
  user_name: string | null;
  access_key_id: string | null;
  /** 1 for read-only calls. */
  read_only: number;
  error_code: string | null;
  /** 1 when the call was denied (AccessDenied and friends). */
  denied: number;
  /** 'complete', or 'pending' while a state-changing call is under way. */
  status: string;
  /** 1 for data events (S3 object-level calls), which LookupEvents leaves out. */
  data_event: Generated<number>;
  /** The whole CloudTrail record, JSON. */
  record: string;
}

export interface PodIdentityAssociationTable {
  association_id: string;
  account_id: string;
  cluster_name: string;
  namespace: string;
  service_account: string;
  role_arn: string;
  target_role_arn: string | null;
  disable_session_tags: number;
  external_id: string | null;
  /** JSON object of tags. */
  tags: string;
  created_at: string;
  modified_at: string;
}

export interface ServiceAccountTable {
  account_id: string;
  cluster_name: string;
  namespace: string;
  name: string;
  /** JSON object of annotations (e.g. eks.amazonaws.com/role-arn). */
  annotations: string;
  created_at: string;
  updated_at: string;
}

/** A one-time console sign-in link not yet used: only the SHA-256 of its secret is kept. */
export interface ConsoleSignInLinkTable {
  /** base64url SHA-256 of the link's token. */
  token_hash: string;
  /** The access key the link signs in with. */
  access_key_id: string;
  /** ISO time after which the link no longer works (expired rows are pruned). */
  expires_at: string;
}

/** A console session signed out before its cookie expires; kept until then. */
export interface ConsoleRevokedSessionTable {
  /** The random session id sealed in the cookie. */
  session_id: string;
  /** ISO time the session's cookie expires (the row is pruned after). */
  expires_at: string;
}
