/**
 * EKS's pod identity association operations: Create, Describe, List, Update, Delete.
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import { parseRoleArn, type RoleDirectory } from '../iam/index.js';
import type { RestCall, RestRoute } from '../protocol/index.js';
import type { AssociationDirectory, PodIdentityAssociation } from './associations.js';
import type { ClusterDirectory } from './clusters.js';
import { validateTags } from './rest-api.js';

/** What the association operations work on. */
export interface PodIdentityApiDeps {
  clusters: ClusterDirectory;
  associations: AssociationDirectory;
  roles: RoleDirectory;
  authorizer: Authorizer;
  region: string;
  /** Called when an association is deleted or re-pointed: its sessions are revoked. */
  onAssociationChanged(associationId: string): Promise<void>;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** The association routes, to merge into the EKS service. */
export function podIdentityRoutes(deps: PodIdentityApiDeps): RestRoute[] {
  const { clusters, associations, roles, authorizer } = deps;
  const authorize = (call: RestCall, action: string, resource: string) =>
    authorizer.authorize(call.principal, { action: `eks:${action}`, resource });
  const cluster = async (call: RestCall) =>
    clusters.get(call.principal.accountId, call.params.name ?? '');

  /** A role ARN parameter: a role of `accountId` (when given) that exists. */
  const readRole = async (value: unknown, field: string, accountId?: string): Promise<string> => {
    const arn = typeof value === 'string' ? value : '';
    const parsed = parseRoleArn(arn);
    if (parsed === undefined)
      throw new AwsError(
        'InvalidParameterException',
        `${field} ${arn} is not a valid IAM role ARN.`,
      );
    if (accountId !== undefined && parsed.accountId !== accountId) {
      throw new AwsError(
        'InvalidParameterException',
        `${field} must be a role of the cluster's account ${accountId}.`,
      );
    }
    const role = await roles.find(parsed.accountId, parsed.roleName);
    if (role === undefined || role.arn !== arn) {
      throw new AwsError(
        'InvalidParameterException',
        `Role ${arn} does not exist or is not accessible.`,
      );
    }
    return arn;
  };

  return [
    {
      method: 'POST',
      path: '/clusters/{name}/pod-identity-associations',
      operation: 'CreatePodIdentityAssociation',
      async handler(call) {
        const namespace = readName(call.body.namespace, 'namespace');
        const serviceAccount = readName(call.body.serviceAccount, 'serviceAccount');
        const tags = validateTags(call.body.tags);
        const disableSessionTags = readBoolean(call.body.disableSessionTags, 'disableSessionTags');
        const c = await cluster(call);
        await authorize(call, 'CreatePodIdentityAssociation', c.arn);
        const roleArn = await readRole(call.body.roleArn, 'roleArn', c.accountId);
        // Creating an association passes the role to EKS, as iam:PassRole in AWS.
        await authorizer.authorize(call.principal, { action: 'iam:PassRole', resource: roleArn });
        const targetRoleArn =
          call.body.targetRoleArn === undefined || call.body.targetRoleArn === null
            ? undefined
            : await readRole(call.body.targetRoleArn, 'targetRoleArn');
        if (targetRoleArn === roleArn) {
          throw new AwsError(
            'InvalidParameterException',
            'targetRoleArn must differ from roleArn.',
          );
        }
        const association = await associations.create(c.accountId, {
          clusterName: c.name,
          namespace,
          serviceAccount,
          roleArn,
          targetRoleArn,
          disableSessionTags,
          externalId:
            targetRoleArn === undefined
              ? undefined
              : externalIdOf(deps.region, c.accountId, c.name, namespace, serviceAccount),
          tags,
        });
        return { association: associationJson(association) };
      },
    },
    {
      method: 'GET',
      path: '/clusters/{name}/pod-identity-associations',
      operation: 'ListPodIdentityAssociations',
      async handler(call) {
        const c = await cluster(call);
        await authorize(call, 'ListPodIdentityAssociations', c.arn);
        const max = call.query.get('maxResults');
        const maxResults = max === null ? 100 : Number(max);
        if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
          throw new AwsError('InvalidParameterException', 'maxResults must be between 1 and 100.');
        }
        const token = call.query.get('nextToken');
        const after = token === null ? undefined : decodeToken(token);
        const page = await associations.list(c.accountId, c.name, {
          namespace: call.query.get('namespace') ?? undefined,
          serviceAccount: call.query.get('serviceAccount') ?? undefined,
          maxResults,
          after,
        });
        return {
          associations: page.items.map((a) => ({
            clusterName: a.clusterName,
            namespace: a.namespace,
            serviceAccount: a.serviceAccount,
            associationArn: a.associationArn,
            associationId: a.associationId,
          })),
          ...(page.next === undefined
            ? {}
            : { nextToken: Buffer.from(page.next).toString('base64url') }),
        };
      },
    },
    {
      method: 'GET',
      path: '/clusters/{name}/pod-identity-associations/{associationId}',
      operation: 'DescribePodIdentityAssociation',
      async handler(call) {
        const c = await cluster(call);
        const a = await associations.get(c.accountId, c.name, call.params.associationId ?? '');
        await authorize(call, 'DescribePodIdentityAssociation', a.associationArn);
        return { association: associationJson(a) };
      },
    },
    {
      method: 'POST',
      path: '/clusters/{name}/pod-identity-associations/{associationId}',
      operation: 'UpdatePodIdentityAssociation',
      async handler(call) {
        const c = await cluster(call);
        const current = await associations.get(
          c.accountId,
          c.name,
          call.params.associationId ?? '',
        );
        await authorize(call, 'UpdatePodIdentityAssociation', current.associationArn);
        const roleArn =
          call.body.roleArn === undefined
            ? undefined
            : await readRole(call.body.roleArn, 'roleArn', c.accountId);
        if (roleArn !== undefined)
          await authorizer.authorize(call.principal, { action: 'iam:PassRole', resource: roleArn });
        const target = call.body.targetRoleArn;
        // An empty string removes the target role, as in EKS.
        const targetRoleArn =
          target === undefined
            ? undefined
            : target === '' || target === null
              ? null
              : await readRole(target, 'targetRoleArn');
        const disableSessionTags =
          call.body.disableSessionTags === undefined
            ? undefined
            : readBoolean(call.body.disableSessionTags, 'disableSessionTags');
        const updated = await associations.update(c.accountId, c.name, current.associationId, {
          ...(roleArn === undefined ? {} : { roleArn }),
          ...(targetRoleArn === undefined
            ? {}
            : {
                targetRoleArn,
                externalId:
                  targetRoleArn === null
                    ? null
                    : externalIdOf(
                        deps.region,
                        c.accountId,
                        c.name,
                        current.namespace,
                        current.serviceAccount,
                      ),
              }),
          ...(disableSessionTags === undefined ? {} : { disableSessionTags }),
        });
        // Sessions issued for the old roles must not outlive the change (beyond AWS).
        if (roleArn !== undefined || targetRoleArn !== undefined)
          await deps.onAssociationChanged(current.associationId);
        return { association: associationJson(updated) };
      },
    },
    {
      method: 'DELETE',
      path: '/clusters/{name}/pod-identity-associations/{associationId}',
      operation: 'DeletePodIdentityAssociation',
      async handler(call) {
        const c = await cluster(call);
        const current = await associations.get(
          c.accountId,
          c.name,
          call.params.associationId ?? '',
        );
        await authorize(call, 'DeletePodIdentityAssociation', current.associationArn);
        const deleted = await associations.delete(c.accountId, c.name, current.associationId);
        await deps.onAssociationChanged(deleted.associationId);
        return { association: associationJson(deleted) };
      },
    },
  ];
}

/**
 * The external id EKS uses when it chains into a target role:
 * `region/account/cluster/namespace/service-account`.
 */
export function externalIdOf(
  region: string,
  accountId: string,
  cluster: string,
  namespace: string,
  sa: string,
): string {
  return `${region}/${accountId}/${cluster}/${namespace}/${sa}`;
}

/** An association in EKS's JSON shape. */
export function associationJson(a: PodIdentityAssociation): Record<string, unknown> {
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    associationArn: a.associationArn,
    associationId: a.associationId,
    tags: a.tags,
    createdAt: a.createdAt.getTime() / 1000,
    modifiedAt: a.modifiedAt.getTime() / 1000,
    disableSessionTags: a.disableSessionTags,
    ...(a.targetRoleArn === undefined ? {} : { targetRoleArn: a.targetRoleArn }),
    ...(a.externalId === undefined ? {} : { externalId: a.externalId }),
  };
}

function readName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !K8S_NAME.test(value)) {
    throw new AwsError(
      'InvalidParameterException',
      `${field} ${String(value)} is not a valid Kubernetes name.`,
    );
  }
  return value;
}

function readBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean')
    throw new AwsError('InvalidParameterException', `${field} must be a boolean.`);
  return value;
}

function decodeToken(token: string): string {
  const value = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^a-[a-z0-9]{17}$/.test(value))
    throw new AwsError('InvalidParameterException', 'The nextToken is not valid.');
  return value;
}
