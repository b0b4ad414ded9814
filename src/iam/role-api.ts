/**
 * IAM's role operations: roles, their trust policies, inline and attached policies,
 * permissions boundaries and tags.
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { QueryCall, QueryHandler, XmlObject } from '../protocol/index.js';
import type { ManagedPolicyDirectory } from './managed-policies.js';
import { encodePolicyDocument, type PolicyValidator } from './policy-document.js';
import type { PrincipalPolicies } from './principal-policies.js';
import {
  MAX_MAX_SESSION_DURATION,
  MIN_MAX_SESSION_DURATION,
  roleArn,
  type IamRole,
  type RoleDirectory,
} from './roles.js';
import { mergeTags, readTags, removeTags, tagsXml } from './tags.js';
import {
  validateIamName,
  validateIamPath,
  validateInteger,
  validateParameter,
  validatePathPrefix,
  validatePolicyName,
} from './validate.js';

/** What the role operations work on. */
export interface RoleApiDeps {
  roles: RoleDirectory;
  policies: ManagedPolicyDirectory;
  principalPolicies: PrincipalPolicies;
  authorizer: Authorizer;
  validatePolicy: PolicyValidator;
}

/** The role actions, to merge into the IAM service's action table. */
export function roleActions(deps: RoleApiDeps): Record<string, QueryHandler> {
  const { roles, policies, principalPolicies, authorizer, validatePolicy } = deps;
  const authorize = (call: QueryCall, action: string, resource: string) =>
    authorizer.authorize(call.principal, { action: `iam:${action}`, resource });

  /** The role a call names, after authorizing `action` on it. */
  const target = async (call: QueryCall, action: string): Promise<IamRole> => {
    const name = validateIamName('roleName', call.params.require('RoleName'));
    const { accountId } = call.principal;
    const found = await roles.find(accountId, name);
    // Authorize on the role's real ARN when it exists, so path-scoped policies work.
    await authorize(call, action, found?.arn ?? roleArn(accountId, '/', name));
    return found ?? roles.get(accountId, name);
  };
  const holder = (role: IamRole) => ({
    kind: 'role' as const,
    accountId: role.accountId,
    name: role.roleName,
  });

  const readBoundary = async (value: string | undefined): Promise<string | undefined> => {
    if (value === undefined) return undefined;
    validateParameter('permissionsBoundary', value, { min: 20, max: 2048 });
    try {
      await policies.get(value);
    } catch {
      throw new AwsError(
        'NoSuchEntity',
        `Scope ARN: ${value} does not exist or is not attachable.`,
      );
    }
    return value;
  };

  return {
    async CreateRole(call) {
      const roleName = validateIamName('roleName', call.params.require('RoleName'));
      const path = validateIamPath('path', call.params.get('Path') ?? '/');
      const trustPolicy = call.params.require('AssumeRolePolicyDocument');
      const description = readDescription(call.params.get('Description'));
      const maxSessionDuration =
        readMaxSessionDuration(call.params.get('MaxSessionDuration')) ?? MIN_MAX_SESSION_DURATION;
      const tags = readTags(call.params);
      const boundary = call.params.get('PermissionsBoundary');
      validatePolicy(trustPolicy, 'trust');
      await authorize(call, 'CreateRole', roleArn(call.principal.accountId, path, roleName));
      const role = await roles.create(call.principal.accountId, {
        roleName,
        path,
        trustPolicy,
        description,
        maxSessionDuration,
        permissionsBoundary: await readBoundary(boundary),
        tags,
      });
      return { Role: roleXml(role) };
    },

    async GetRole(call) {
      return { Role: roleXml(await target(call, 'GetRole')) };
    },

    async ListRoles(call) {
      const pathPrefix = validatePathPrefix(call.params.get('PathPrefix'));
      const maxItems = validateInteger(
        'maxItems',
        call.params.get('MaxItems'),
        { min: 1, max: 1000 },
        100,
      );
      await authorize(call, 'ListRoles', '*');
      const page = await roles.list(call.principal.accountId, {
        pathPrefix,
        marker: call.params.get('Marker'),
        maxItems,
      });
      return {
        Roles: page.items.map((r) => roleXml(r, false)),
        ...(page.marker === undefined
          ? { IsTruncated: false }
          : { IsTruncated: true, Marker: page.marker }),
      };
    },

    async UpdateRole(call) {
      const description = readDescription(call.params.get('Description'));
      const maxSessionDuration = readMaxSessionDuration(call.params.get('MaxSessionDuration'));
      const role = await target(call, 'UpdateRole');
      await roles.update(role.accountId, role.roleName, {
        ...(description === undefined ? {} : { description }),
        ...(maxSessionDuration === undefined ? {} : { maxSessionDuration }),
      });
      return {};
    },

    async UpdateAssumeRolePolicy(call) {
      const document = call.params.require('PolicyDocument');
      validatePolicy(document, 'trust');
      const role = await target(call, 'UpdateAssumeRolePolicy');
      await roles.update(role.accountId, role.roleName, { trustPolicy: document });
      return undefined;
    },

    async DeleteRole(call) {
      const role = await target(call, 'DeleteRole');
      await roles.delete(role.accountId, role.roleName);
      return undefined;
    },

    async PutRolePolicy(call) {
      const policyName = validatePolicyName(call.params.require('PolicyName'));
      const document = call.params.require('PolicyDocument');
      validatePolicy(document, 'role-inline');
      const role = await target(call, 'PutRolePolicy');
      await principalPolicies.putInline(holder(role), policyName, document);
      return undefined;
    },

    async GetRolePolicy(call) {
      const policyName = validatePolicyName(call.params.require('PolicyName'));
      const role = await target(call, 'GetRolePolicy');
      const policy = await principalPolicies.getInline(holder(role), policyName);
      return {
        RoleName: role.roleName,
        PolicyName: policy.policyName,
        PolicyDocument: encodePolicyDocument(policy.document),
      };
    },

    async ListRolePolicies(call) {
      const role = await target(call, 'ListRolePolicies');
      const list = await principalPolicies.listInline(holder(role));
      return { PolicyNames: list.map((p) => p.policyName), IsTruncated: false };
    },

    async DeleteRolePolicy(call) {
      const policyName = validatePolicyName(call.params.require('PolicyName'));
      const role = await target(call, 'DeleteRolePolicy');
      await principalPolicies.deleteInline(holder(role), policyName);
      return undefined;
    },

    async AttachRolePolicy(call) {
      const arn = call.params.require('PolicyArn');
      const role = await target(call, 'AttachRolePolicy');
      await policies.get(arn);
      await principalPolicies.attach(holder(role), arn);
      return undefined;
    },

    async DetachRolePolicy(call) {
      const arn = call.params.require('PolicyArn');
      const role = await target(call, 'DetachRolePolicy');
      await principalPolicies.detach(holder(role), arn);
      return undefined;
    },

    async ListAttachedRolePolicies(call) {
      const role = await target(call, 'ListAttachedRolePolicies');
      return {
        AttachedPolicies: await attachedPoliciesXml(
          policies,
          await principalPolicies.attached(holder(role)),
        ),
        IsTruncated: false,
      };
    },

    async TagRole(call) {
      const tags = readTags(call.params);
      const role = await target(call, 'TagRole');
      await roles.update(role.accountId, role.roleName, { tags: mergeTags(role.tags, tags) });
      return undefined;
    },

    async UntagRole(call) {
      const keys = call.params.list('TagKeys');
      const role = await target(call, 'UntagRole');
      await roles.update(role.accountId, role.roleName, { tags: removeTags(role.tags, keys) });
      return undefined;
    },

    async ListRoleTags(call) {
      const role = await target(call, 'ListRoleTags');
      return { Tags: tagsXml(role.tags), IsTruncated: false };
    },

    async PutRolePermissionsBoundary(call) {
      const boundary = await readBoundary(call.params.require('PermissionsBoundary'));
      const role = await target(call, 'PutRolePermissionsBoundary');
      await roles.update(role.accountId, role.roleName, { permissionsBoundary: boundary ?? null });
      return undefined;
    },

    async DeleteRolePermissionsBoundary(call) {
      const role = await target(call, 'DeleteRolePermissionsBoundary');
      await roles.update(role.accountId, role.roleName, { permissionsBoundary: null });
      return undefined;
    },
  };
}

/** The `AttachedPolicies` list: each attached policy's name and ARN. */
export async function attachedPoliciesXml(
  policies: ManagedPolicyDirectory,
  arns: string[],
): Promise<XmlObject[]> {
  const out: XmlObject[] = [];
  for (const arn of arns) {
    const name = arn.slice(arn.lastIndexOf('/') + 1);
    out.push({
      PolicyName: (await policies.get(arn).catch(() => undefined))?.policyName ?? name,
      PolicyArn: arn,
    });
  }
  return out;
}

function roleXml(role: IamRole, full = true): XmlObject {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodePolicyDocument(role.trustPolicy),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    ...(full && role.permissionsBoundary !== undefined
      ? {
          PermissionsBoundary: {
            PermissionsBoundaryType: 'PermissionsBoundaryPolicy',
            PermissionsBoundaryArn: role.permissionsBoundary,
          },
        }
      : {}),
    ...(full && Object.keys(role.tags).length > 0 ? { Tags: tagsXml(role.tags) } : {}),
  };
}

function readDescription(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return validateParameter('description', value, {
    // IAM allows tab, newline and carriage return in descriptions.
    // eslint-disable-next-line no-control-regex
    pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/,
    patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*',
    max: 1000,
  });
}

function readMaxSessionDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return validateInteger(
    'maxSessionDuration',
    value,
    { min: MIN_MAX_SESSION_DURATION, max: MAX_MAX_SESSION_DURATION },
    MIN_MAX_SESSION_DURATION,
  );
}
