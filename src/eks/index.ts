export { ClusterDirectory, ISSUER_PATH_PREFIX, type Cluster, type NewCluster } from './clusters.js';
export {
  clusterJson,
  createEksRestService,
  DEFAULT_KUBERNETES_VERSION,
  type EksDeps,
} from './rest-api.js';
