/**
 * The settings one pod is mutated with (upstream `podPatchConfig`), merged from the
 * service account, the Pod Identity configuration, flags and the pod's own annotations.
 */
import { parseCsvRecord, parseTokenExpiration } from './annotations.js';
import { Annotation } from './constants.js';
import type { ContainerCredentialsConfig } from './container-credentials/source.js';
import type { DecodedPod } from './pod.js';

/** How one pod is mutated. */
export interface PodPatchConfig {
  /** Containers named in `skip-containers`. */
  containersToSkip: ReadonlySet<string>;
  /** Lifetime of the projected token, in seconds. */
  tokenExpiration: number;
  /** Inject `AWS_STS_REGIONAL_ENDPOINTS=regional`. */
  useRegionalSts: boolean;
  /** Audience of the projected token. */
  audience: string;
  /** Where the token volume is mounted. */
  mountPath: string;
  /** Name of the token volume. */
  volumeName: string;
  /** File name of the token in the volume. */
  tokenPath: string;
  /** IRSA: the role to assume with the token. */
  webIdentity?: { roleArn: string };
  /** Pod Identity: the agent URL and token settings. Takes precedence over `webIdentity`. */
  containerCredentials?: ContainerCredentialsConfig;
}

/** What a pod's own annotations change. */
export interface PodOverrides {
  tokenExpiration: number;
  containersToSkip: ReadonlySet<string>;
}

/**
 * Reads the pod annotations that refine a mutation: `token-expiration` (over the service
 * account's value) and `skip-containers` (comma-separated names).
 *
 * @example
 * podOverrides(pod, 'eks.amazonaws.com', 86400); // { tokenExpiration: 3600, containersToSkip: Set { 'sidecar' } }
 */
export function podOverrides(
  pod: DecodedPod,
  annotationDomain: string,
  serviceAccountExpiration: number,
  onInvalid?: (annotation: string, value: string) => void,
): PodOverrides {
  let tokenExpiration = serviceAccountExpiration;
  const expirationValue = pod.annotations[`${annotationDomain}/${Annotation.tokenExpiration}`];
  if (expirationValue !== undefined) {
    const parsed = parseTokenExpiration(expirationValue);
    if (parsed === undefined) onInvalid?.(Annotation.tokenExpiration, expirationValue);
    else tokenExpiration = parsed;
  }
  const containersToSkip = new Set<string>();
  const skipValue = pod.annotations[`${annotationDomain}/${Annotation.skipContainers}`];
  if (skipValue !== undefined) {
    const names = parseCsvRecord(skipValue);
    // Unparseable: skip none, as upstream.
    if (names === undefined) onInvalid?.(Annotation.skipContainers, skipValue);
    else for (const name of names) containersToSkip.add(name);
  }
  return { tokenExpiration, containersToSkip };
}
