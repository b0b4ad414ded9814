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
export { ClusterDirectory, ISSUER_PATH_PREFIX, type Cluster, type NewCluster } from './clusters.js';
export { associationJson, externalIdOf, type PodIdentityApiDeps } from './pod-identity-api.js';
export {
  clusterJson,
  createEksRestService,
  DEFAULT_KUBERNETES_VERSION,
  type EksDeps,
} from './rest-api.js';
export { ServiceAccountDirectory, type ServiceAccountRecord } from './service-accounts.js';
