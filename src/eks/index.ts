export {
  AssociationDirectory,
  type NewAssociation,
  type PodIdentityAssociation,
} from './associations.js';
export {
  createEksAuthService,
  POD_IDENTITY_AUDIENCE,
  POD_IDENTITY_SERVICE,
  type EksAuthDeps,
} from './assume-role-for-pod-identity.js';
export {
  ClusterDirectory,
  ISSUER_PATH_PREFIX,
  type Cluster,
  type NewCluster,
  type NewExternalCluster,
} from './clusters.js';
export {
  CLUSTER_ISSUER_API_PREFIX,
  clusterIssuerRoutes,
  MAX_JWKS_JSON_BYTES,
  type ClusterIssuerApiDeps,
} from './cluster-issuer-api.js';
export { associationJson, externalIdOf, type PodIdentityApiDeps } from './pod-identity-api.js';
export {
  clusterJson,
  createEksRestService,
  DEFAULT_KUBERNETES_VERSION,
  type EksDeps,
} from './rest-api.js';
export { ServiceAccountDirectory, type ServiceAccountRecord } from './service-accounts.js';
