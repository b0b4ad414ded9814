/**
 * IAM's managed-policy operations, and the policy operations of users (inline and attached).
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { QueryCall, QueryHandler, XmlObject } from '../protocol/index.js';
import {
  policyArn,
  type ManagedPolicy,
  type ManagedPolicyDirectory,
  type PolicyVersion,
} from './managed-policies.js';
import { encodePolicyDocument, type PolicyValidator } from './policy-document.js';
import type { PrincipalPolicies } from './principal-policies.js';
import { attachedPoliciesXml } from './role-api.js';
import { readTags, tagsXml } from './tags.js';
import { userArn, type IamUser, type UserDirectory } from './users.js';
import {
  validateIamName,
  validateIamPath,
  validateInteger,
  validateParameter,
  validatePathPrefix,
  validatePolicyName,
} from './validate.js';

/** What the policy operations work on. */
export interface PolicyApiDeps {
  policies: ManagedPolicyDirectory;
  principalPolicies: PrincipalPolicies;
  users: UserDirectory;
  authorizer: Authorizer;
  validatePolicy: PolicyValidator;
}

/** The policy actions, to merge into the IAM service's action table. */
export function policyActions(deps: PolicyApiDeps): Record<string, QueryHandler> {
  const { policies, principalPolicies, users, authorizer, validatePolicy } = deps;
  const authorize = (call: QueryCall, action: string, resource: string) =>
    authorizer.authorize(call.principal, { action: `iam:${action}`, resource });

  const targetPolicy = async (call: QueryCall, action: string): Promise<string> => {
    const arn = validateParameter('policyArn', call.params.require('PolicyArn'), {
      min: 20,
      max: 2048,
    });
    await authorize(call, action, arn);
    return arn;
  };
  const targetUser = async (call: QueryCall, action: string): Promise<IamUser> => {
    const name = validateIamName('userName', call.params.require('UserName'));
    await authorize(call, action, userArn(call.principal.accountId, '/', name));
    return users.get(call.principal.accountId, name);
  };
  const userHolder = (u: IamUser) => ({
    kind: 'user' as const,
    accountId: u.accountId,
    name: u.userName,
  });

  return {
    async CreatePolicy(call) {
      const name = validatePolicyName(call.params.require('PolicyName'));
      const path = validateIamPath('path', call.params.get('Path') ?? '/');
      const document = call.params.require('PolicyDocument');
      const description = call.params.get('Description');
      if (description !== undefined) validateParameter('description', description, { max: 1000 });
      const tags = readTags(call.params);
      validatePolicy(document, 'managed');
      await authorize(call, 'CreatePolicy', policyArn(call.principal.accountId, path, name));
      const policy = await policies.create(call.principal.accountId, {
        name,
        path,
        description,
        document,
        tags,
      });
      return { Policy: policyXml(policy) };
    },

    async GetPolicy(call) {
      return { Policy: policyXml(await policies.get(await targetPolicy(call, 'GetPolicy'))) };
    },

    async DeletePolicy(call) {
      await policies.delete(ownPolicy(call, await targetPolicy(call, 'DeletePolicy')));
      return undefined;
    },

    async ListPolicies(call) {
      const scope = call.params.get('Scope') ?? 'All';
      if (scope !== 'All' && scope !== 'AWS' && scope !== 'Local') {
        throw new AwsError(
          'ValidationError',
          `1 validation error detected: Value '${scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]`,
        );
      }
      const pathPrefix = validatePathPrefix(call.params.get('PathPrefix'));
      const maxItems = validateInteger(
        'maxItems',
        call.params.get('MaxItems'),
        { min: 1, max: 1000 },
        100,
      );
      await authorize(call, 'ListPolicies', '*');
      const all = await policies.list(call.principal.accountId, {
        scope,
        pathPrefix,
        onlyAttached: call.params.get('OnlyAttached') === 'true',
      });
      const start = readMarker(call.params.get('Marker'));
      const page = all.slice(start, start + maxItems);
      const more = start + maxItems < all.length;
      return {
        Policies: page.map(policyXml),
        ...(more
          ? { IsTruncated: true, Marker: String(start + maxItems) }
          : { IsTruncated: false }),
      };
    },

    async CreatePolicyVersion(call) {
      const document = call.params.require('PolicyDocument');
      validatePolicy(document, 'managed');
      const arn = ownPolicy(call, await targetPolicy(call, 'CreatePolicyVersion'));
      const version = await policies.createVersion(
        arn,
        document,
        call.params.get('SetAsDefault') === 'true',
      );
      return { PolicyVersion: versionXml(version, false) };
    },

    async GetPolicyVersion(call) {
      const versionId = readVersionId(call.params.require('VersionId'));
      const arn = await targetPolicy(call, 'GetPolicyVersion');
      return { PolicyVersion: versionXml(await policies.getVersion(arn, versionId), true) };
    },

    async ListPolicyVersions(call) {
      const arn = await targetPolicy(call, 'ListPolicyVersions');
      return {
        Versions: (await policies.listVersions(arn)).map((v) => versionXml(v, false)),
        IsTruncated: false,
      };
    },

    async SetDefaultPolicyVersion(call) {
      const versionId = readVersionId(call.params.require('VersionId'));
      const arn = ownPolicy(call, await targetPolicy(call, 'SetDefaultPolicyVersion'));
      await policies.setDefaultVersion(arn, versionId);
      return undefined;
    },

    async DeletePolicyVersion(call) {
      const versionId = readVersionId(call.params.require('VersionId'));
      const arn = ownPolicy(call, await targetPolicy(call, 'DeletePolicyVersion'));
      await policies.deleteVersion(arn, versionId);
      return undefined;
    },

    async AttachUserPolicy(call) {
      const arn = call.params.require('PolicyArn');
      const user = await targetUser(call, 'AttachUserPolicy');
      await policies.get(arn);
      await principalPolicies.attach(userHolder(user), arn);
      return undefined;
    },

    async DetachUserPolicy(call) {
      const arn = call.params.require('PolicyArn');
      const user = await targetUser(call, 'DetachUserPolicy');
      await principalPolicies.detach(userHolder(user), arn);
      return undefined;
    },

    async ListAttachedUserPolicies(call) {
      const user = await targetUser(call, 'ListAttachedUserPolicies');
      return {
        AttachedPolicies: await attachedPoliciesXml(
          policies,
          await principalPolicies.attached(userHolder(user)),
        ),
        IsTruncated: false,
      };
    },

    async PutUserPolicy(call) {
      const policyName = validatePolicyName(call.params.require('PolicyName'));
      const document = call.params.require('PolicyDocument');
      validatePolicy(document, 'user-inline');
      const user = await targetUser(call, 'PutUserPolicy');
      await principalPolicies.putInline(userHolder(user), policyName, document);
      return undefined;
    },

    async GetUserPolicy(call) {
      const policyName = validatePolicyName(call.params.require('PolicyName'));
      const user = await targetUser(call, 'GetUserPolicy');
      const policy = await principalPolicies.getInline(userHolder(user), policyName);
      return {
        UserName: user.userName,
        PolicyName: policy.policyName,
        PolicyDocument: encodePolicyDocument(policy.document),
      };
    },

    async ListUserPolicies(call) {
      const user = await targetUser(call, 'ListUserPolicies');
      const list = await principalPolicies.listInline(userHolder(user));
      return { PolicyNames: list.map((p) => p.policyName), IsTruncated: false };
    },

    async DeleteUserPolicy(call) {
      const policyName = validatePolicyName(call.params.require('PolicyName'));
      const user = await targetUser(call, 'DeleteUserPolicy');
      await principalPolicies.deleteInline(userHolder(user), policyName);
      return undefined;
    },
  };
}

/** Only the caller's own account's policies may be changed. */
function ownPolicy(call: QueryCall, arn: string): string {
  const account = arn.split(':')[4];
  if (account !== call.principal.accountId && account !== 'aws') {
    throw new AwsError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
  }
  return arn;
}

function readVersionId(value: string): string {
  return validateParameter('versionId', value, {
    pattern: /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/,
    patternText: 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?',
  });
}

/** A list call's `Marker`: the offset where the previous page stopped. */
export function readMarker(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,6}$/.test(value)) throw new AwsError('ValidationError', 'Invalid Marker.');
  return Number(value);
}

function policyXml(policy: ManagedPolicy): XmlObject {
  return {
    PolicyName: policy.policyName,
    PolicyId: policy.policyId,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: policy.defaultVersionId,
    AttachmentCount: policy.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: policy.description,
    CreateDate: policy.createDate,
    UpdateDate: policy.updateDate,
    ...(Object.keys(policy.tags).length > 0 ? { Tags: tagsXml(policy.tags) } : {}),
  };
}

function versionXml(version: PolicyVersion, withDocument: boolean): XmlObject {
  return {
    ...(withDocument ? { Document: encodePolicyDocument(version.document) } : {}),
    VersionId: version.versionId,
    IsDefaultVersion: version.isDefaultVersion,
    CreateDate: version.createDate,
  };
}
