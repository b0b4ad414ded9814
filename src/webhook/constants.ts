/**
 * Names and defaults shared with aws/amazon-eks-pod-identity-webhook (`pkg/constants.go`,
 * `pkg/annotations.go`, `main.go`), so a cluster configured for the upstream webhook behaves
 * the same with Latchkey's.
 */

/** Default annotation domain (`--annotation-prefix`). */
export const DEFAULT_ANNOTATION_DOMAIN = 'eks.amazonaws.com';

/** Service-account annotation suffixes read by the webhook. */
export const Annotation = {
  roleArn: 'role-arn',
  audience: 'audience',
  stsRegionalEndpoints: 'sts-regional-endpoints',
  tokenExpiration: 'token-expiration',
  /** Pod annotation: comma-separated container names not to mutate. */
  skipContainers: 'skip-containers',
} as const;

/**
 * Pod label that opts a pod out. Upstream only puts it in the MutatingWebhookConfiguration's
 * `objectSelector`; Latchkey also honours it in the handler, so a configuration without the
 * selector still respects it.
 */
export const SKIP_POD_LABEL = 'eks.amazonaws.com/skip-pod-identity-webhook';

/** Label the webhook adds to pods it gives Pod Identity (container credentials). */
export const POD_IDENTITY_LABEL = 'eks.amazonaws.com/pod-identity';

/** Default audience of IRSA tokens (`--token-audience`). */
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
/** Default mount path of the IRSA token (`--token-mount-path`). */
export const DEFAULT_MOUNT_PATH = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
/** Name of the IRSA projected volume. */
export const IRSA_VOLUME_NAME = 'aws-iam-token';
/** File name of the IRSA token inside its volume. */
export const IRSA_TOKEN_PATH = 'token';

/** Token lifetime bounds, in seconds. */
export const TokenExpiration = {
  default: 86_400,
  min: 600,
  /** Latchkey clamps here too; upstream only raises values below the minimum. */
  max: 86_400,
  /** Lower end of the jitter applied to default-lifetime Pod Identity tokens. */
  defaultMinJitter: 79_200,
} as const;

/** Defaults of the Pod Identity (container credentials) injection. */
export const ContainerCredentialsDefaults = {
  audience: 'pods.eks.amazonaws.com',
  mountPath: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount',
  volumeName: 'eks-pod-identity-token',
  tokenPath: 'eks-pod-identity-token',
  fullUri: 'http://169.254.170.23/v1/credentials',
} as const;

/** Environment variables the webhook sets or looks for. */
export const Env = {
  roleArn: 'AWS_ROLE_ARN',
  webIdentityTokenFile: 'AWS_WEB_IDENTITY_TOKEN_FILE',
  containerCredentialsFullUri: 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  containerAuthorizationTokenFile: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  region: 'AWS_REGION',
  defaultRegion: 'AWS_DEFAULT_REGION',
  stsRegionalEndpoints: 'AWS_STS_REGIONAL_ENDPOINTS',
  endpointUrl: 'AWS_ENDPOINT_URL',
  endpointUrlSts: 'AWS_ENDPOINT_URL_STS',
} as const;

/** Default `--service-account-lookup-grace-period`, in milliseconds (upstream's documented default). */
export const DEFAULT_SA_LOOKUP_GRACE_MS = 100;

/** Default cap on an AdmissionReview body; a Pod is at most ~1.5 MiB in etcd. */
export const DEFAULT_MAX_REQUEST_BYTES = 3 * 1024 * 1024;
