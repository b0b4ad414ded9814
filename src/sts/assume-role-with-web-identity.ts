/**
 * STS AssumeRoleWithWebIdentity, exactly as AWS: unsigned; the token verified by its issuer's
 * keys; the issuer an OIDC provider of the role's account; an audience among its client ids;
 * then the role's trust policy decides, with `<issuer>:sub`, `:aud` and `:amr`.
 */
import { webIdentityUser } from '../audit/index.js';
import { AwsError } from '../errors/index.js';
import { parseRoleArn, type PolicyValidator, type RoleDirectory } from '../iam/index.js';
import {
  checkWebIdentityTokenLength,
  verifyWebIdentityToken,
  type KeySetSource,
} from '../oidc/index.js';
import type { AnonymousQueryCall, XmlObject } from '../protocol/index.js';
import type { SealingKeyring } from '../sessions/index.js';
import { issueSession, sessionXml } from './issue-session.js';
import type { TrustEvaluator } from './trust.js';
import {
  packedPolicyPercent,
  readDurationSeconds,
  sessionDuration,
  readRoleArn,
  readRoleSessionName,
  readSessionPolicies,
} from './validate.js';

/** What AssumeRoleWithWebIdentity works on. */
export interface WebIdentityDeps {
  roles: RoleDirectory;
  /** The issuer `iss` as trusted by an account: its provider and keys. */
  findIssuer(
    accountId: string,
    iss: string,
  ): Promise<
    { provider: { arn: string; url: string; clientIds: string[] }; keys: KeySetSource } | undefined
  >;
  evaluateTrust: TrustEvaluator;
  validatePolicy: PolicyValidator;
  keyring: () => SealingKeyring;
}

const NOT_AUTHORIZED = 'Not authorized to perform sts:AssumeRoleWithWebIdentity';

/** Handles one AssumeRoleWithWebIdentity call. */
export async function assumeRoleWithWebIdentity(
  deps: WebIdentityDeps,
  call: AnonymousQueryCall,
): Promise<XmlObject> {
  const { params } = call;
  const roleArn = readRoleArn(params);
  const sessionName = readRoleSessionName(params);
  const requestedDuration = readDurationSeconds(params);
  const token = params.require('WebIdentityToken');
  checkWebIdentityTokenLength(token);
  if (params.get('ProviderId') !== undefined) {
    throw new AwsError(
      'InvalidParameterValue',
      'ProviderId is only for OAuth 2.0 providers (www.amazon.com, graph.facebook.com); omit it for OpenID Connect tokens.',
    );
  }
  const sessionPolicies = readSessionPolicies(params);
  if (sessionPolicies.policy !== undefined) deps.validatePolicy(sessionPolicies.policy, 'session');

  const target = parseRoleArn(roleArn);
  if (target === undefined) throw new AwsError('ValidationError', `${roleArn} is invalid`);
  call.audit.recipientAccountId = target.accountId;

  // The issuer must be a provider of the role's account; its keys verify the token.
  let trusted: Awaited<ReturnType<WebIdentityDeps['findIssuer']>>;
  const identity = await verifyWebIdentityToken(token, {
    keysFor: async (iss) => {
      trusted = await deps.findIssuer(target.accountId, iss);
      return trusted?.keys;
    },
  });
  if (trusted === undefined)
    throw new AwsError(
      'InvalidIdentityToken',
      `No OpenIDConnect provider found in your account for ${identity.issuer}`,
    );
  const provider = trusted.provider;
  const audience = identity.audiences.find((a) => provider.clientIds.includes(a));
  if (audience === undefined)
    throw new AwsError('InvalidIdentityToken', 'Incorrect token audience');
  call.audit.identity = webIdentityUser(provider.arn, audience, identity.subject);

  const role = await deps.roles.find(target.accountId, target.roleName);
  if (role === undefined || role.arn !== roleArn)
    throw new AwsError('AccessDenied', NOT_AUTHORIZED);

  const context: Record<string, string | string[]> = {
    [`${provider.url}:sub`]: identity.subject,
    [`${provider.url}:aud`]: audience,
    'aws:FederatedProvider': provider.arn,
    'sts:RoleSessionName': sessionName,
  };
  const amr = identity.claims.amr;
  if (typeof amr === 'string' || Array.isArray(amr))
    context[`${provider.url}:amr`] = (amr as unknown[]).map(String);
  await deps
    .evaluateTrust({
      role,
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: { kind: 'federated', providerArn: provider.arn },
      context,
    })
    .catch((err: unknown) => {
      if (err instanceof AwsError && err.code === 'AccessDenied') {
        throw new AwsError('AccessDenied', NOT_AUTHORIZED, 403, err.explanation);
      }
      throw err;
    });

  const durationSeconds = sessionDuration(requestedDuration, role.maxSessionDuration, false);
  const packed =
    sessionPolicies.policy !== undefined || sessionPolicies.policyArns.length > 0
      ? packedPolicyPercent(sessionPolicies.policy, sessionPolicies.policyArns, {})
      : undefined;
  const issued = issueSession(deps.keyring(), {
    role,
    sessionName,
    durationSeconds,
    tags: {},
    transitiveTagKeys: [],
    sessionPolicy: sessionPolicies.policy,
    sessionPolicyArns: sessionPolicies.policyArns,
    chainDepth: 0,
    issuedBy: 'AssumeRoleWithWebIdentity',
    webIdentity: { provider: provider.arn, subject: identity.subject, audience },
  });
  call.audit.data = { identityProviderConnectionVerificationMethod: 'IAMTrustStore' };
  return {
    ...sessionXml(issued),
    SubjectFromWebIdentityToken: identity.subject,
    Audience: audience,
    // AWS's documentation: for OpenID Connect tokens, the value of the `iss` claim.
    Provider: identity.issuer,
    ...(packed === undefined ? {} : { PackedPolicySize: packed }),
  };
}
