/**
 * EKS Auth `AssumeRoleForPodIdentity`: the node agent presents a pod's projected token
 * (audience `pods.eks.amazonaws.com`); the cluster's association for the pod's service account
 * names the role, assumed by the EKS service with the pod's session tags, and optionally
 * chained into a target role (one hour at most).
 */
import { randomUUID } from 'node:crypto';
import type { Authorizer, Principal } from '../auth/index.js';
import { AwsError, isAwsError } from '../errors/index.js';
import { parseRoleArn, type IamRole, type RoleDirectory } from '../iam/index.js';
import { toEksAuthError, verifyWebIdentityToken, type IssuerKeys } from '../oidc/index.js';
import type { RestService } from '../protocol/index.js';
import { assumedRoleArn, type SealingKeyring } from '../sessions/index.js';
import { issueSession, type IssuedSession, type TrustEvaluator } from '../sts/index.js';
import type { AssociationDirectory } from './associations.js';
import type { ClusterDirectory } from './clusters.js';

/** The audience every Pod Identity token must carry. */
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

/** The service principal that assumes association roles. */
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';

/** Lifetime of the credentials of an association's role (EKS issues six-hour credentials). */
export const POD_IDENTITY_SESSION_SECONDS = 6 * 3600;

/** Lifetime of credentials chained into a target role (role chaining's cap). */
export const TARGET_ROLE_SESSION_SECONDS = 3600;

const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const JWT = /^[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+$/;
const SUBJECT =
  /^system:serviceaccount:([a-z0-9]([-a-z0-9.]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/** What AssumeRoleForPodIdentity works on. */
export interface EksAuthDeps {
  clusters: ClusterDirectory;
  associations: AssociationDirectory;
  roles: RoleDirectory;
  issuerKeys: IssuerKeys;
  authorizer: Authorizer;
  evaluateTrust: TrustEvaluator;
  keyring: () => SealingKeyring;
}

/** Builds the EKS Auth service (signing name `eks-auth`). */
export function createEksAuthService(deps: EksAuthDeps): RestService {
  return {
    signingName: 'eks-auth',
    routes: [
      {
        method: 'POST',
        path: '/clusters/{name}/assume-role-for-pod-identity',
        operation: 'AssumeRoleForPodIdentity',
        async handler(call) {
          const clusterName = call.params.name ?? '';
          if (!CLUSTER_NAME.test(clusterName)) {
            throw new AwsError(
              'InvalidParameterException',
              `The cluster name ${clusterName} is not valid.`,
            );
          }
          const token = call.body.token;
          if (typeof token !== 'string' || token.length > 65_536 || !JWT.test(token)) {
            throw new AwsError('InvalidParameterException', 'The token is not a valid JWT.');
          }
          const cluster = await deps.clusters.get(call.principal.accountId, clusterName);
          await deps.authorizer
            .authorize(call.principal, {
              action: 'eks-auth:AssumeRoleForPodIdentity',
              resource: cluster.arn,
            })
            .catch(toEksAuthDenial);

          // Only this cluster's own issuer, only the Pod Identity audience.
          const identity = await verifyWebIdentityToken(token, {
            keysFor: (iss) =>
              Promise.resolve(
                iss === cluster.issuerUrl ? deps.clusters.verificationKeys(cluster) : undefined,
              ),
            audiences: [POD_IDENTITY_AUDIENCE],
          }).catch((err: unknown) => {
            throw toEksAuthError(err);
          });
          const subject = SUBJECT.exec(identity.subject);
          if (subject === null)
            throw new AwsError(
              'InvalidTokenException',
              'The token subject is not a service account.',
            );
          const namespace = subject[1] ?? '';
          const serviceAccount = subject[3] ?? '';
          const pod = podOf(identity.claims['kubernetes.io']);
          call.audit.data = {
            subject: identity.subject,
            namespace,
            serviceAccount,
            ...(pod ? { podName: pod.name } : {}),
          };

          const association = await deps.associations.find(
            cluster.accountId,
            cluster.name,
            namespace,
            serviceAccount,
          );
          if (association === undefined) {
            throw new AwsError(
              'ResourceNotFoundException',
              `No Pod Identity Association found for service account ${serviceAccount} in namespace ${namespace}.`,
            );
          }
          const role = await findRole(deps.roles, association.roleArn);
          const tags: Record<string, string> = association.disableSessionTags
            ? {}
            : {
                'eks-cluster-arn': cluster.arn,
                'eks-cluster-name': cluster.name,
                'kubernetes-namespace': namespace,
                'kubernetes-service-account': serviceAccount,
                ...(pod ? { 'kubernetes-pod-name': pod.name, 'kubernetes-pod-uid': pod.uid } : {}),
              };
          const tagContext = requestTagContext(tags);
          const serviceContext = {
            'aws:SourceAccount': cluster.accountId,
            'aws:SourceArn': cluster.arn,
            ...tagContext,
          };
          const sessionName =
            `eks-${cluster.name}-${pod?.name ?? serviceAccount}-${randomUUID()}`.slice(0, 64);
          await askTrust(
            deps,
            role,
            'sts:AssumeRole',
            { kind: 'service', service: POD_IDENTITY_SERVICE, sourceAccount: cluster.accountId },
            serviceContext,
          );
          if (Object.keys(tags).length > 0) {
            await askTrust(
              deps,
              role,
              'sts:TagSession',
              { kind: 'service', service: POD_IDENTITY_SERVICE, sourceAccount: cluster.accountId },
              serviceContext,
            );
          }
          let issued = issueSession(deps.keyring(), {
            role,
            sessionName,
            durationSeconds: POD_IDENTITY_SESSION_SECONDS,
            tags,
            transitiveTagKeys: Object.keys(tags),
            sessionPolicyArns: [],
            chainDepth: 0,
            issuedBy: 'AssumeRoleForPodIdentity',
            associationId: association.associationId,
          });

          if (association.targetRoleArn !== undefined) {
            const target = await findRole(deps.roles, association.targetRoleArn);
            // The target role's account records the chained assumption too (sharedEventID).
            call.audit.sharedWith = target.accountId;
            const first = sessionPrincipal(issued);
            const context: Record<string, string | string[]> = {
              'sts:RoleSessionName': sessionName,
            };
            if (association.externalId !== undefined)
              context['sts:ExternalId'] = association.externalId;
            await askTrust(
              deps,
              target,
              'sts:AssumeRole',
              { kind: 'aws', principal: first },
              context,
            );
            issued = issueSession(deps.keyring(), {
              role: target,
              sessionName,
              durationSeconds: TARGET_ROLE_SESSION_SECONDS,
              tags,
              transitiveTagKeys: Object.keys(tags),
              sessionPolicyArns: [],
              chainDepth: 1,
              issuedBy: 'AssumeRoleForPodIdentity',
              associationId: association.associationId,
            });
          }

          const { session } = issued;
          return {
            subject: { namespace, serviceAccount },
            audience: POD_IDENTITY_AUDIENCE,
            podIdentityAssociation: {
              associationArn: association.associationArn,
              associationId: association.associationId,
            },
            assumedRoleUser: {
              arn: assumedRoleArn(session),
              assumeRoleId: `${session.roleId}:${session.sessionName}`,
            },
            credentials: {
              sessionToken: issued.sessionToken,
              secretAccessKey: session.secretAccessKey,
              accessKeyId: session.accessKeyId,
              expiration: Math.floor(session.expiresAt / 1000),
            },
          };
        },
      },
    ],
  };
}

async function askTrust(
  deps: EksAuthDeps,
  role: IamRole,
  action: string,
  principal: Parameters<TrustEvaluator>[0]['principal'],
  context: Record<string, string | string[]>,
): Promise<void> {
  await deps.evaluateTrust({ role, action, principal, context }).catch(toEksAuthDenial);
}

/** EKS Auth answers AccessDeniedException with HTTP 400. */
function toEksAuthDenial(err: unknown): never {
  if (isAwsError(err, 'AccessDenied') || isAwsError(err, 'AccessDeniedException')) {
    throw new AwsError('AccessDeniedException', err.message, 400, err.explanation);
  }
  throw err;
}

async function findRole(roles: RoleDirectory, arn: string): Promise<IamRole> {
  const parsed = parseRoleArn(arn);
  const role =
    parsed === undefined ? undefined : await roles.find(parsed.accountId, parsed.roleName);
  if (role === undefined || role.arn !== arn) {
    throw new AwsError(
      'AccessDeniedException',
      `The role ${arn} does not exist or cannot be assumed.`,
      400,
    );
  }
  return role;
}

/** The principal of an issued session, for the next step of a role chain. */
function sessionPrincipal(issued: IssuedSession): Principal {
  const { session } = issued;
  return {
    type: 'AssumedRole',
    accountId: session.accountId,
    arn: assumedRoleArn(session),
    principalId: `${session.roleId}:${session.sessionName}`,
    accessKeyId: session.accessKeyId,
    session,
  };
}

function requestTagContext(tags: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(tags)) out[`aws:RequestTag/${k}`] = v;
  if (Object.keys(tags).length > 0) out['aws:TagKeys'] = Object.keys(tags);
  return out;
}

function podOf(claim: unknown): { name: string; uid: string } | undefined {
  if (typeof claim !== 'object' || claim === null) return undefined;
  const pod = (claim as { pod?: unknown }).pod;
  if (typeof pod !== 'object' || pod === null) return undefined;
  const { name, uid } = pod as { name?: unknown; uid?: unknown };
  return typeof name === 'string' && typeof uid === 'string' ? { name, uid } : undefined;
}
