/**
 * EKS's REST-JSON API for clusters: CreateCluster, DescribeCluster, ListClusters,
 * DeleteCluster. Each handler: validate → authorize → act → respond.
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { RestCall, RestService } from '../protocol/index.js';
import { clusterIssuerRoutes } from './cluster-issuer-api.js';
import type { Cluster, ClusterDirectory } from './clusters.js';
import { podIdentityRoutes, type PodIdentityApiDeps } from './pod-identity-api.js';

/** The Kubernetes version a cluster gets when none is asked for. */
export const DEFAULT_KUBERNETES_VERSION = '1.31';

const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** What the EKS API works on. */
export interface EksDeps extends PodIdentityApiDeps {
  clusters: ClusterDirectory;
  authorizer: Authorizer;
  region: string;
}

/** Builds the EKS REST-JSON service (signing name `eks`). */
export function createEksRestService(deps: EksDeps): RestService {
  const { clusters, authorizer, region } = deps;
  const clusterArn = (call: RestCall, name: string) =>
    `arn:aws:eks:${region}:${call.principal.accountId}:cluster/${name}`;
  const authorize = (call: RestCall, action: string, resource: string) =>
    authorizer.authorize(call.principal, { action: `eks:${action}`, resource });

  return {
    signingName: 'eks',
    routes: [
      {
        method: 'POST',
        path: '/clusters',
        operation: 'CreateCluster',
        async handler(call) {
          const name = requireString(call.body, 'name');
          validateClusterName(name);
          const roleArn = requireString(call.body, 'roleArn');
          if (!ROLE_ARN.test(roleArn)) {
            throw new AwsError(
              'InvalidParameterException',
              `roleArn ${roleArn} is not a valid IAM role ARN.`,
            );
          }
          const vpc = call.body.resourcesVpcConfig;
          if (typeof vpc !== 'object' || vpc === null || Array.isArray(vpc)) {
            throw new AwsError('InvalidParameterException', 'resourcesVpcConfig is required.');
          }
          const version = optionalString(call.body, 'version') ?? DEFAULT_KUBERNETES_VERSION;
          if (!/^\d+\.\d+$/.test(version)) {
            throw new AwsError(
              'InvalidParameterException',
              `unsupported Kubernetes version ${version}`,
            );
          }
          const tags = validateTags(call.body.tags);
          await authorize(call, 'CreateCluster', clusterArn(call, name));
          const cluster = await clusters.create(call.principal.accountId, {
            name,
            roleArn,
            version,
            resourcesVpcConfig: vpc as Record<string, unknown>,
            tags,
          });
          return { cluster: clusterJson(cluster) };
        },
      },
      {
        method: 'GET',
        path: '/clusters',
        operation: 'ListClusters',
        async handler(call) {
          const max = call.query.get('maxResults');
          const maxResults = max === null ? 100 : Number(max);
          if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
            throw new AwsError(
              'InvalidParameterException',
              'maxResults must be between 1 and 100.',
            );
          }
          const token = call.query.get('nextToken');
          const after = token === null ? undefined : decodeToken(token);
          await authorize(
            call,
            'ListClusters',
            `arn:aws:eks:${region}:${call.principal.accountId}:cluster/*`,
          );
          const page = await clusters.listNames(call.principal.accountId, { maxResults, after });
          return page.next === undefined
            ? { clusters: page.names }
            : { clusters: page.names, nextToken: encodeToken(page.next) };
        },
      },
      {
        method: 'GET',
        path: '/clusters/{name}',
        operation: 'DescribeCluster',
        async handler(call) {
          const name = call.params.name ?? '';
          await authorize(call, 'DescribeCluster', clusterArn(call, name));
          return { cluster: clusterJson(await clusters.get(call.principal.accountId, name)) };
        },
      },
      {
        method: 'DELETE',
        path: '/clusters/{name}',
        operation: 'DeleteCluster',
        async handler(call) {
          const name = call.params.name ?? '';
          await authorize(call, 'DeleteCluster', clusterArn(call, name));
          const cluster = await clusters.delete(call.principal.accountId, name);
          // A deleted cluster's associations go with it, and their sessions stop working.
          for (const id of await deps.associations.deleteCluster(call.principal.accountId, name)) {
            await deps.onAssociationChanged(id);
          }
          return { cluster: { ...clusterJson(cluster), status: 'DELETING' } };
        },
      },
      ...podIdentityRoutes(deps),
      ...clusterIssuerRoutes({
        clusters,
        authorizer,
        region,
        validateTags,
        defaultVersion: DEFAULT_KUBERNETES_VERSION,
      }),
    ],
  };
}

/** A cluster in EKS's JSON shape (timestamps in epoch seconds, as restJson1 expects). */
export function clusterJson(cluster: Cluster): Record<string, unknown> {
  return {
    name: cluster.name,
    arn: cluster.arn,
    createdAt: cluster.createdAt.getTime() / 1000,
    version: cluster.version,
    roleArn: cluster.roleArn,
    resourcesVpcConfig: cluster.resourcesVpcConfig,
    identity: { oidc: { issuer: cluster.issuerUrl } },
    status: 'ACTIVE',
    platformVersion: 'eks.1',
    tags: cluster.tags,
  };
}

function validateClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw new AwsError(
      'InvalidParameterException',
      `The cluster name ${name} is invalid: 1 to 100 characters, starting with a letter or digit, then letters, digits, hyphens and underscores.`,
    );
  }
}

function requireString(body: Readonly<Record<string, unknown>>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new AwsError('InvalidParameterException', `${field} is required.`);
  }
  return value;
}

function optionalString(
  body: Readonly<Record<string, unknown>>,
  field: string,
): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new AwsError('InvalidParameterException', `${field} must be a string.`);
  return value;
}

/** Tags as EKS accepts them: up to 50, keys 1–128 and values up to 256 characters. */
export function validateTags(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('InvalidParameterException', 'tags must be a map of strings.');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50)
    throw new AwsError('InvalidParameterException', 'At most 50 tags are allowed.');
  for (const [k, v] of entries) {
    if (
      k.length < 1 ||
      k.length > 128 ||
      typeof v !== 'string' ||
      v.length > 256 ||
      k.toLowerCase().startsWith('aws:')
    ) {
      throw new AwsError('InvalidParameterException', `The tag ${k} is invalid.`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function encodeToken(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const value = Buffer.from(token, 'base64url').toString('utf8');
  if (value === '' || encodeToken(value) !== token) {
    throw new AwsError('InvalidParameterException', 'The nextToken is not valid.');
  }
  return value;
}
