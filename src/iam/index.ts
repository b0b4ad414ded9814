export {
  AccessKeyDirectory,
  ACCESS_KEYS_PER_USER,
  type AccessKeyMetadata,
  type NewAccessKey,
} from './access-keys.js';
export { newAccessKeyId, newSecretAccessKey, newUniqueId } from './ids.js';
export { createIamQueryService, IAM_NAMESPACE, type IamDeps } from './query-api.js';
export { UserDirectory, userArn, type IamUser, type Page } from './users.js';
export {
  ADMIN_USER_NAME,
  createAccount,
  DEFAULT_ACCOUNT_ID,
  listAccounts,
  validateAccountId,
} from './accounts.js';
export { parseProviderUrl } from './oidc-provider-api.js';
export {
  oidcProviderArn,
  OidcProviderDirectory,
  parseOidcProviderArn,
  type OidcProvider,
} from './oidc-providers.js';
export {
  AWS_MANAGED,
  ManagedPolicyDirectory,
  parsePolicyArn,
  policyArn,
  type ManagedPolicy,
  type PolicyVersion,
} from './managed-policies.js';
export {
  encodePolicyDocument,
  type PolicyDocumentKind,
  type PolicyValidator,
} from './policy-document.js';
export { PrincipalPolicies, type InlinePolicy, type PolicyHolder } from './principal-policies.js';
export { parseRoleArn, roleArn, RoleDirectory, type IamRole } from './roles.js';
export { PolicySetLoader, type NamedPolicy, type PrincipalPolicySet } from './policy-set.js';
export { PolicyAuthorizer, type TrustQuestion } from './policy-authorizer.js';
