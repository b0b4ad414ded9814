/**
 * IAM's Query API: each handler reads like AWS's documentation of the operation —
 * validate, authorize, act, respond.
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { QueryCall, QueryHandler, QueryService, XmlObject } from '../protocol/index.js';
import type { AccessKeyDirectory, AccessKeyMetadata } from './access-keys.js';
import { oidcProviderActions, type OidcProviderApiDeps } from './oidc-provider-api.js';
import { policyActions, type PolicyApiDeps } from './policy-api.js';
import { roleActions, type RoleApiDeps } from './role-api.js';
import { simulateActions, type SimulateApiDeps } from './simulate-api.js';
import { userArn, type IamUser, type UserDirectory } from './users.js';
import {
  validateIamName,
  validateIamPath,
  validateInteger,
  validateParameter,
} from './validate.js';

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** What the IAM API works on. */
export interface IamDeps extends OidcProviderApiDeps, RoleApiDeps, PolicyApiDeps, SimulateApiDeps {
  users: UserDirectory;
  accessKeys: AccessKeyDirectory;
  authorizer: Authorizer;
  /** Called after every successful change, so cached permissions are re-read at once. */
  onChange?: () => void;
}

/** Builds the IAM Query service. */
export function createIamQueryService(deps: IamDeps): QueryService {
  const service = buildIamQueryService(deps);
  const onChange = deps.onChange;
  if (onChange === undefined) return service;
  const actions: Record<string, QueryHandler> = {};
  for (const [name, handler] of Object.entries(service.actions)) {
    actions[name] = /^(Get|List|Simulate)/.test(name)
      ? handler
      : async (call) => {
          const result = await handler(call);
          onChange();
          return result;
        };
  }
  return { ...service, actions };
}

function buildIamQueryService(deps: IamDeps): QueryService {
  const { users, accessKeys, authorizer } = deps;

  const authorize = (call: QueryCall, action: string, resource: string) =>
    authorizer.authorize(call.principal, { action: `iam:${action}`, resource });

  /** The user a call names, or the caller itself when UserName is omitted (as IAM does). */
  const targetUser = async (call: QueryCall, action: string): Promise<IamUser> => {
    const name = call.params.get('UserName');
    const { accountId } = call.principal;
    if (name === undefined) {
      if (call.principal.userName === undefined) {
        throw new AwsError(
          'ValidationError',
          'Must specify userName when calling with non-User credentials',
        );
      }
      await authorize(call, action, call.principal.arn);
      return users.get(accountId, call.principal.userName);
    }
    validateIamName('userName', name);
    // Authorize before looking up, so a denied caller cannot probe which users exist.
    await authorize(call, action, userArn(accountId, '/', name));
    return users.get(accountId, name);
  };

  return {
    signingName: 'iam',
    namespace: IAM_NAMESPACE,
    actions: {
      ...oidcProviderActions(deps),
      ...roleActions(deps),
      ...policyActions(deps),
      ...simulateActions(deps),

      async CreateUser(call) {
        const userName = validateIamName('userName', call.params.require('UserName'));
        const path = validateIamPath('path', call.params.get('Path') ?? '/');
        if (
          call.params.get('PermissionsBoundary') !== undefined ||
          call.params.structList('Tags').length > 0
        ) {
          throw new AwsError(
            'ValidationError',
            'PermissionsBoundary and Tags on users are not supported yet.',
          );
        }
        await authorize(call, 'CreateUser', userArn(call.principal.accountId, path, userName));
        return { User: userXml(await users.create(call.principal.accountId, userName, path)) };
      },

      async GetUser(call) {
        return { User: userXml(await targetUser(call, 'GetUser')) };
      },

      async ListUsers(call) {
        const pathPrefix = validateParameter('pathPrefix', call.params.get('PathPrefix') ?? '/', {
          pattern: /^\/[\u0021-\u007F]*$/,
          patternText: '\\u002F[\\u0021-\\u007F]*',
          min: 1,
          max: 512,
        });
        const maxItems = validateInteger(
          'maxItems',
          call.params.get('MaxItems'),
          { min: 1, max: 1000 },
          100,
        );
        await authorize(call, 'ListUsers', `arn:aws:iam::${call.principal.accountId}:user/`);
        const page = await users.list(call.principal.accountId, {
          pathPrefix,
          marker: call.params.get('Marker'),
          maxItems,
        });
        return { Users: page.items.map(userXml), ...pageXml(page.marker) };
      },

      async DeleteUser(call) {
        const user = await targetUser(call, 'DeleteUser');
        await users.delete(user.accountId, user.userName);
        return undefined;
      },

      async CreateAccessKey(call) {
        const user = await targetUser(call, 'CreateAccessKey');
        const key = await accessKeys.create(user.accountId, user.userName);
        return {
          AccessKey: {
            UserName: key.userName,
            AccessKeyId: key.accessKeyId,
            Status: key.status,
            SecretAccessKey: key.secretAccessKey,
            CreateDate: key.createDate,
          },
        };
      },

      async ListAccessKeys(call) {
        const user = await targetUser(call, 'ListAccessKeys');
        const keys = await accessKeys.list(user.accountId, user.userName);
        return { AccessKeyMetadata: keys.map(accessKeyXml), IsTruncated: false };
      },

      async UpdateAccessKey(call) {
        const accessKeyId = validateAccessKeyId(call.params.require('AccessKeyId'));
        const status = call.params.require('Status');
        if (status !== 'Active' && status !== 'Inactive') {
          throw new AwsError(
            'ValidationError',
            `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
          );
        }
        const user = await targetUser(call, 'UpdateAccessKey');
        await accessKeys.updateStatus(user.accountId, user.userName, accessKeyId, status);
        return undefined;
      },

      async DeleteAccessKey(call) {
        const accessKeyId = validateAccessKeyId(call.params.require('AccessKeyId'));
        const user = await targetUser(call, 'DeleteAccessKey');
        await accessKeys.delete(user.accountId, user.userName, accessKeyId);
        return undefined;
      },
    },
  };
}

function validateAccessKeyId(value: string): string {
  return validateParameter('accessKeyId', value, {
    pattern: /^[\w]+$/,
    patternText: '[\\w]+',
    min: 16,
    max: 128,
  });
}

function userXml(user: IamUser): XmlObject {
  return {
    Path: user.path,
    UserName: user.userName,
    UserId: user.userId,
    Arn: user.arn,
    CreateDate: user.createDate,
  };
}

function accessKeyXml(key: AccessKeyMetadata): XmlObject {
  return {
    UserName: key.userName,
    AccessKeyId: key.accessKeyId,
    Status: key.status,
    CreateDate: key.createDate,
  };
}

function pageXml(marker: string | undefined): XmlObject {
  return marker === undefined ? { IsTruncated: false } : { IsTruncated: true, Marker: marker };
}
