/**
 * Latchkey's extensions of the EKS API for cluster issuers (signing name `eks`, paths under
 * `/_latchkey/eks/`): registering an external cluster whose issuer is a real cluster's, re-pinning
 * its JWKS, and rotating or listing the signing keys of Latchkey's own issuers.
 */
import type { JWK } from 'jose';
import type { Authorizer } from '../auth/index.js';
import { AwsError, isAwsError } from '../errors/index.js';
import {
  checkIssuerUrl,
  JwksFormatError,
  parseJwks,
  RemoteKeySet,
  type IssuerAlgorithm,
  type IssuerKeyInfo,
} from '../oidc/index.js';
import type { RestCall, RestRoute } from '../protocol/index.js';
import type { ClusterDirectory } from './clusters.js';

/** Path prefix of these routes. */
export const CLUSTER_ISSUER_API_PREFIX = '/_latchkey/eks';

/** The most bytes of JWKS JSON a registration may carry (as the remote fetch's cap). */
export const MAX_JWKS_JSON_BYTES = 256 * 1024;

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** What the issuer routes work on. */
export interface ClusterIssuerApiDeps {
  clusters: ClusterDirectory;
  authorizer: Authorizer;
  region: string;
  /** Tags as EKS accepts them (shared with CreateCluster). */
  validateTags: (value: unknown) => Record<string, string>;
  /** The Kubernetes version a cluster gets when none is given. */
  defaultVersion: string;
}

/** The routes; `createEksRestService` adds them to the EKS service. */
export function clusterIssuerRoutes(deps: ClusterIssuerApiDeps): RestRoute[] {
  const { clusters, authorizer, region } = deps;
  const clusterArn = (call: RestCall, name: string) =>
    `arn:aws:eks:${region}:${call.principal.accountId}:cluster/${name}`;
  return [
    {
      method: 'POST',
      path: `${CLUSTER_ISSUER_API_PREFIX}/external-clusters`,
      operation: 'RegisterExternalCluster',
      async handler(call) {
        const name = readName(call.body.name);
        const issuerUrl = readIssuer(call.body.issuer, clusters);
        const jwks = call.body.jwks === undefined ? undefined : readJwks(call.body.jwks);
        const roleArn =
          readOptionalString(call.body, 'roleArn') ??
          `arn:aws:iam::${call.principal.accountId}:role/eks-cluster-role`;
        if (!ROLE_ARN.test(roleArn)) {
          throw new AwsError(
            'InvalidParameterException',
            `roleArn ${roleArn} is not a valid IAM role ARN.`,
          );
        }
        const version = readOptionalString(call.body, 'version') ?? deps.defaultVersion;
        if (!/^\d+\.\d+$/.test(version)) {
          throw new AwsError(
            'InvalidParameterException',
            `unsupported Kubernetes version ${version}`,
          );
        }
        const tags = deps.validateTags(call.body.tags);
        await authorizer.authorize(call.principal, {
          action: 'eks:RegisterCluster',
          resource: clusterArn(call, name),
        });
        const taken = await clusters
          .get(call.principal.accountId, name)
          .then(() => true)
          .catch(() => false);
        if (taken) {
          throw new AwsError('ResourceInUseException', `Cluster already exists with name: ${name}`);
        }
        // One cluster per issuer in an account: tokens name the issuer, not the cluster.
        const existing = await clusters.findExternalByIssuer(call.principal.accountId, issuerUrl);
        if (existing !== undefined) {
          throw new AwsError(
            'ResourceInUseException',
            `The issuer ${issuerUrl} is already registered for cluster ${existing.name}.`,
          );
        }
        // Without a pinned JWKS the issuer must answer now, through the same guards as later.
        if (jwks === undefined) await checkReachable(clusters, issuerUrl);
        const cluster = await clusters.register(call.principal.accountId, {
          name,
          issuerUrl,
          jwks,
          roleArn,
          version,
          resourcesVpcConfig: {},
          tags,
        });
        return {
          cluster: {
            name: cluster.name,
            arn: cluster.arn,
            issuer: cluster.issuerUrl,
            keys: jwks === undefined ? 'fetched' : 'pinned',
            ...(jwks === undefined ? {} : { kids: jwks.map((k) => k.kid ?? null) }),
          },
        };
      },
    },
    {
      method: 'PUT',
      path: `${CLUSTER_ISSUER_API_PREFIX}/external-clusters/{name}/jwks`,
      operation: 'UpdateExternalClusterJwks',
      async handler(call) {
        const name = readName(call.params.name);
        const jwks = readJwks(call.body.jwks);
        await authorizer.authorize(call.principal, {
          action: 'eks:UpdateClusterConfig',
          resource: clusterArn(call, name),
        });
        const cluster = await clusters.replaceJwks(call.principal.accountId, name, jwks);
        return {
          cluster: {
            name: cluster.name,
            arn: cluster.arn,
            issuer: cluster.issuerUrl,
            keys: 'pinned',
            kids: jwks.map((k) => k.kid ?? null),
          },
        };
      },
    },
    {
      method: 'POST',
      path: `${CLUSTER_ISSUER_API_PREFIX}/clusters/{name}/signing-keys`,
      operation: 'RotateIssuerSigningKey',
      async handler(call) {
        const name = readName(call.params.name);
        const alg = readAlgorithm(call.body.algorithm);
        await authorizer.authorize(call.principal, {
          action: 'latchkey:RotateIssuerSigningKey',
          resource: clusterArn(call, name),
        });
        const rotated = await clusters.rotateSigningKey(call.principal.accountId, name, alg);
        return {
          cluster: rotated.cluster.name,
          issuer: rotated.cluster.issuerUrl,
          kid: rotated.kid,
          keys: rotated.keys.map(keyJson),
        };
      },
    },
    {
      method: 'GET',
      path: `${CLUSTER_ISSUER_API_PREFIX}/clusters/{name}/signing-keys`,
      operation: 'ListIssuerSigningKeys',
      async handler(call) {
        const name = readName(call.params.name);
        await authorizer.authorize(call.principal, {
          action: 'latchkey:ListIssuerSigningKeys',
          resource: clusterArn(call, name),
        });
        const keys = await clusters.signingKeys(call.principal.accountId, name);
        return { cluster: name, keys: keys.map(keyJson) };
      },
    },
  ];
}

/** A key in the API's JSON: times in ISO-8601. */
function keyJson(key: IssuerKeyInfo): Record<string, unknown> {
  return {
    kid: key.kid,
    algorithm: key.alg,
    createdAt: key.createdAt.toISOString(),
    status: key.signing ? 'SIGNING' : 'PUBLISHED',
    ...(key.retireAfter === undefined ? {} : { retireAfter: key.retireAfter.toISOString() }),
  };
}

function readName(value: unknown): string {
  if (typeof value !== 'string' || !CLUSTER_NAME.test(value)) {
    throw new AwsError(
      'InvalidParameterException',
      `The cluster name ${String(value ?? '')} is invalid: 1 to 100 characters, starting with a letter or digit, then letters, digits, hyphens and underscores.`,
    );
  }
  return value;
}

function readOptionalString(body: Readonly<Record<string, unknown>>, field: string) {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new AwsError('InvalidParameterException', `${field} must be a non-empty string.`);
  }
  return value;
}

function readIssuer(value: unknown, clusters: ClusterDirectory): string {
  if (typeof value !== 'string' || value === '') {
    throw new AwsError('InvalidParameterException', 'issuer is required.');
  }
  if (value.length > 2048) {
    throw new AwsError('InvalidParameterException', 'issuer is longer than 2048 characters.');
  }
  let issuer: string;
  try {
    issuer = checkIssuerUrl(value, clusters.remoteKeys.options.allowLoopback === true);
  } catch (err) {
    throw new AwsError(
      'InvalidParameterException',
      `The issuer URL is not valid: ${err instanceof Error ? err.message : String(err)}.`,
    );
  }
  const host = new URL(issuer).hostname;
  if (issuer.startsWith('http:') && !LOOPBACK_HOSTS.has(host) && !host.startsWith('127.')) {
    // Plain http is only the test and development allowance for an issuer on this machine.
    throw new AwsError(
      'InvalidParameterException',
      `The issuer URL is not valid: issuer ${value} must use https.`,
    );
  }
  if (clusters.isOwnIssuerUrl(issuer)) {
    throw new AwsError(
      'InvalidParameterException',
      `${issuer} is one of this Latchkey's own issuers; create the cluster with \`latchkey cluster create\` instead.`,
    );
  }
  return issuer;
}

/** A JWKS given inline: parsed, reduced to public verification keys, at least one of them. */
function readJwks(value: unknown): JWK[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AwsError('InvalidParameterException', 'jwks must be a JWKS object ({"keys":[…]}).');
  }
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_JWKS_JSON_BYTES) {
    throw new AwsError(
      'InvalidParameterException',
      `jwks is larger than ${MAX_JWKS_JSON_BYTES} bytes.`,
    );
  }
  let keys: JWK[];
  try {
    keys = parseJwks(value);
  } catch (err) {
    if (err instanceof JwksFormatError) {
      throw new AwsError('InvalidParameterException', `jwks is not usable: ${err.message}.`);
    }
    throw err;
  }
  if (keys.length === 0) {
    throw new AwsError(
      'InvalidParameterException',
      'jwks has no usable verification key (RSA or EC public keys for signatures).',
    );
  }
  return keys;
}

function readAlgorithm(value: unknown): IssuerAlgorithm {
  if (value === undefined || value === null) return 'RS256';
  if (value === 'RS256' || value === 'ES256') return value;
  throw new AwsError(
    'InvalidParameterException',
    `algorithm ${JSON.stringify(value)} is not supported: use RS256 or ES256.`,
  );
}

/** Fetches the issuer's discovery document and JWKS once; a failure is the caller's error. */
async function checkReachable(clusters: ClusterDirectory, issuer: string): Promise<void> {
  let keys: readonly JWK[];
  try {
    // A throw-away key set: a failed check must not leave a backoff on the shared one.
    keys = await new RemoteKeySet(issuer, clusters.remoteKeys.options).refresh();
  } catch (err) {
    const detail = isAwsError(err) && typeof err.cause === 'string' ? err.cause : String(err);
    throw new AwsError(
      'InvalidParameterException',
      `The issuer's keys could not be fetched from ${issuer}/.well-known/openid-configuration: ${detail}. Give the JWKS as a file (--jwks-file) if the issuer is not reachable from Latchkey.`,
    );
  }
  if (keys.length === 0) {
    throw new AwsError(
      'InvalidParameterException',
      `The issuer ${issuer} publishes no usable verification key.`,
    );
  }
}
