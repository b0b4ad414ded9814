/**
 * Latchkey's own REST-JSON API under `/_latchkey/api/` (signing name `latchkey`), for
 * operations AWS has no API for, such as creating an account.
 */
import type { Kysely } from 'kysely';
import { searchAudit } from '../audit/index.js';
import type { Authorizer } from '../auth/index.js';
import type { ClusterDirectory, ServiceAccountDirectory } from '../eks/index.js';
import { AwsError } from '../errors/index.js';
import { createAccount, DEFAULT_ACCOUNT_ID, parseRoleArn } from '../iam/index.js';
import {
  MAX_TOKEN_SECONDS,
  MIN_TOKEN_SECONDS,
  mintServiceAccountToken,
  type IssuerKeys,
} from '../oidc/index.js';
import type { RestRoute, RestService } from '../protocol/index.js';
import type { SessionRevocations } from '../sessions/index.js';
import type { Database } from '../store/index.js';

/** Builds the Latchkey API service. */
export function createLatchkeyApi(deps: {
  db: Kysely<Database>;
  masterKey: Buffer;
  clusters: ClusterDirectory;
  issuerKeys: IssuerKeys;
  authorizer: Authorizer;
  revocations: SessionRevocations;
  serviceAccounts: ServiceAccountDirectory;
  onAccountCreated: (accountId: string) => void;
  /** More routes of the same service (the access queries of src/access). */
  extraRoutes?: RestRoute[] | undefined;
}): RestService {
  return {
    signingName: 'latchkey',
    routes: [
      {
        method: 'POST',
        path: '/_latchkey/api/accounts',
        operation: 'CreateAccount',
        async handler({ principal, body }) {
          // Accounts are the instance's business: only principals of the first account may add one.
          if (principal.accountId !== DEFAULT_ACCOUNT_ID) {
            throw new AwsError(
              'AccessDenied',
              `User: ${principal.arn} is not authorized to create accounts: only principals of account ${DEFAULT_ACCOUNT_ID} may`,
            );
          }
          await deps.authorizer.authorize(principal, {
            action: 'latchkey:CreateAccount',
            resource: '*',
          });
          const accountId = typeof body.accountId === 'string' ? body.accountId : '';
          const key = await createAccount(deps.db, deps.masterKey, accountId);
          deps.onAccountCreated(accountId);
          return { accountId, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
        },
      },
      {
        method: 'POST',
        path: '/_latchkey/api/clusters/{name}/service-account-token',
        operation: 'CreateServiceAccountToken',
        async handler({ principal, params, body }) {
          const cluster = await deps.clusters.get(principal.accountId, params.name ?? '');
          const input = readTokenRequest(body);
          await deps.authorizer.authorize(principal, {
            action: 'latchkey:CreateServiceAccountToken',
            resource: cluster.arn,
          });
          const token = await mintServiceAccountToken(
            await deps.issuerKeys.signingKey(cluster.issuerId),
            {
              issuerUrl: cluster.issuerUrl,
              ...input,
            },
          );
          return { token, issuer: cluster.issuerUrl };
        },
      },
      {
        method: 'PUT',
        path: '/_latchkey/api/clusters/{name}/service-accounts/{namespace}/{serviceAccount}',
        operation: 'PutServiceAccount',
        async handler({ principal, params, body }) {
          const cluster = await deps.clusters.get(principal.accountId, params.name ?? '');
          const namespace = readK8sName(params.namespace, 'namespace');
          const name = readK8sName(params.serviceAccount, 'serviceAccount');
          const annotations = readAnnotations(body.annotations);
          await deps.authorizer.authorize(principal, {
            action: 'latchkey:PutServiceAccount',
            resource: cluster.arn,
          });
          return deps.serviceAccounts.put(principal.accountId, {
            clusterName: cluster.name,
            namespace,
            name,
            annotations,
          });
        },
      },
      {
        method: 'GET',
        path: '/_latchkey/api/clusters/{name}/service-accounts',
        operation: 'ListServiceAccounts',
        async handler({ principal, params }) {
          const cluster = await deps.clusters.get(principal.accountId, params.name ?? '');
          await deps.authorizer.authorize(principal, {
            action: 'latchkey:ListServiceAccounts',
            resource: cluster.arn,
          });
          return {
            serviceAccounts: await deps.serviceAccounts.list(principal.accountId, cluster.name),
          };
        },
      },
      {
        method: 'GET',
        path: '/_latchkey/api/clusters/{name}/service-accounts/{namespace}/{serviceAccount}',
        operation: 'GetServiceAccount',
        async handler({ principal, params }) {
          const cluster = await deps.clusters.get(principal.accountId, params.name ?? '');
          await deps.authorizer.authorize(principal, {
            action: 'latchkey:GetServiceAccount',
            resource: cluster.arn,
          });
          return deps.serviceAccounts.get(
            principal.accountId,
            cluster.name,
            params.namespace ?? '',
            params.serviceAccount ?? '',
          );
        },
      },
      {
        method: 'POST',
        path: '/_latchkey/api/audit/search',
        operation: 'SearchAuditEvents',
        async handler({ principal, body }) {
          await deps.authorizer.authorize(principal, {
            action: 'cloudtrail:LookupEvents',
            resource: '*',
          });
          const limit =
            typeof body.limit === 'number' && Number.isInteger(body.limit) ? body.limit : 50;
          if (limit < 1 || limit > 1000) {
            throw new AwsError('InvalidParameterException', 'limit must be from 1 to 1000.');
          }
          const startTime =
            typeof body.startTime === 'string' ? new Date(body.startTime) : undefined;
          if (startTime !== undefined && Number.isNaN(startTime.getTime())) {
            throw new AwsError('InvalidParameterException', 'startTime must be an ISO-8601 time.');
          }
          const page = await searchAudit(deps.db, {
            accountId: principal.accountId,
            limit,
            ...(body.denied === true ? { denied: true } : {}),
            ...(typeof body.principal === 'string' ? { principalArn: body.principal } : {}),
            ...(startTime ? { startTime } : {}),
            ...(typeof body.nextToken === 'string' ? { nextToken: body.nextToken } : {}),
          });
          return { events: page.records, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
        },
      },
      {
        method: 'POST',
        path: '/_latchkey/api/session-revocations',
        operation: 'RevokeSessions',
        async handler({ principal, body }) {
          const roleArn = typeof body.roleArn === 'string' ? body.roleArn : '';
          const role = parseRoleArn(roleArn);
          if (role === undefined) {
            throw new AwsError(
              'InvalidParameterException',
              `roleArn ${roleArn} is not a valid IAM role ARN.`,
            );
          }
          await deps.authorizer.authorize(principal, {
            action: 'latchkey:RevokeSessions',
            resource: roleArn,
          });
          if (role.accountId !== principal.accountId) {
            throw new AwsError(
              'AccessDeniedException',
              'Sessions can be revoked only for roles of your own account.',
            );
          }
          const revokedBefore = await deps.revocations.revoke(`role:${roleArn}`);
          return { roleArn, revokedBefore: revokedBefore.toISOString() };
        },
      },
      ...(deps.extraRoutes ?? []),
    ],
  };
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function readK8sName(value: string | undefined, field: string): string {
  if (value === undefined || !K8S_NAME.test(value)) {
    throw new AwsError(
      'InvalidParameterException',
      `${field} '${value ?? ''}' is not a valid Kubernetes name.`,
    );
  }
  return value;
}

/** Annotations: a map of strings, at most 64 of them, keys up to 253 characters. */
function readAnnotations(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('InvalidParameterException', 'annotations must be a map of strings.');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 64)
    throw new AwsError('InvalidParameterException', 'At most 64 annotations.');
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 253 || typeof v !== 'string' || v.length > 4096) {
      throw new AwsError('InvalidParameterException', `The annotation ${k} is invalid.`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Validates a token request as the Kubernetes TokenRequest API would. */
function readTokenRequest(body: Readonly<Record<string, unknown>>) {
  const str = (field: string): string | undefined => {
    const v = body[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string')
      throw new AwsError('InvalidParameterException', `${field} must be a string.`);
    return v;
  };
  const namespace = str('namespace') ?? '';
  const serviceAccount = str('serviceAccount') ?? '';
  for (const [field, value] of [
    ['namespace', namespace],
    ['serviceAccount', serviceAccount],
  ]) {
    if (!K8S_NAME.test(value ?? '')) {
      throw new AwsError(
        'InvalidParameterException',
        `${field} '${value}' is not a valid Kubernetes name.`,
      );
    }
  }
  const audience = str('audience') ?? 'sts.amazonaws.com';
  const seconds = body.expirationSeconds ?? 86_400;
  if (
    typeof seconds !== 'number' ||
    !Number.isInteger(seconds) ||
    seconds < MIN_TOKEN_SECONDS ||
    seconds > MAX_TOKEN_SECONDS
  ) {
    throw new AwsError(
      'InvalidParameterException',
      `expirationSeconds must be an integer from ${MIN_TOKEN_SECONDS} to ${MAX_TOKEN_SECONDS}.`,
    );
  }
  const podName = str('podName');
  if (podName !== undefined && !K8S_NAME.test(podName)) {
    throw new AwsError(
      'InvalidParameterException',
      `podName '${podName}' is not a valid Kubernetes name.`,
    );
  }
  return {
    namespace,
    serviceAccount,
    audiences: [audience],
    expirationSeconds: seconds,
    ...(podName === undefined ? {} : { pod: { name: podName } }),
  };
}
