/**
 * Pod Identity (container credentials) settings for a pod (upstream `buildPodPatchConfig`,
 * container credentials branch). They take precedence over IRSA: a service account with both
 * a pod identity association and a role-arn annotation gets Pod Identity only, as on EKS.
 */
import type { Logger } from 'pino';
import { TokenExpiration } from './constants.js';
import type { PodIdentityAssociationSource } from './container-credentials/source.js';
import { podOverrides, type PodPatchConfig } from './patch-config.js';
import type { DecodedPod } from './pod.js';
import type { ServiceAccountCache } from './service-accounts/cache.js';

/** A random integer in [0, maxExclusive). */
export type RandomInt = (maxExclusive: number) => number;

/** What {@link containerCredentialsPatchConfig} needs. */
export interface ContainerCredentialsDeps {
  associations: PodIdentityAssociationSource;
  cache: ServiceAccountCache;
  annotationDomain: string;
  randomInt: RandomInt;
  logger?: Logger;
}

/**
 * Spreads default-lifetime Pod Identity tokens over [79200, 86400] s so a fleet started at
 * once does not refresh at once (upstream `addJitterToDefaultToken`); other values are kept.
 */
export function jitterDefaultExpiration(seconds: number, randomInt: RandomInt): number {
  if (seconds !== TokenExpiration.default) return seconds;
  const span = TokenExpiration.default - TokenExpiration.defaultMinJitter + 1;
  return randomInt(span) + TokenExpiration.defaultMinJitter;
}

/**
 * The Pod Identity settings for `pod`, or undefined when its service account has no
 * association. Regional STS and the token lifetime still come from the service account's
 * annotations when it has them.
 *
 * @example
 * const config = await containerCredentialsPatchConfig(pod, { associations, cache, annotationDomain, randomInt });
 */
export async function containerCredentialsPatchConfig(
  pod: DecodedPod,
  deps: ContainerCredentialsDeps,
): Promise<PodPatchConfig | undefined> {
  const credentials = await deps.associations.lookup(pod.namespace, pod.serviceAccountName);
  if (!credentials) return undefined;
  const common = deps.cache.commonConfig(pod.namespace, pod.serviceAccountName);
  const overrides = podOverrides(
    pod,
    deps.annotationDomain,
    common.tokenExpiration,
    (annotation, value) =>
      deps.logger?.debug(
        { serviceAccount: `${pod.namespace}/${pod.serviceAccountName}`, annotation, value },
        'ignoring invalid pod annotation',
      ),
  );
  return {
    containersToSkip: overrides.containersToSkip,
    tokenExpiration: jitterDefaultExpiration(overrides.tokenExpiration, deps.randomInt),
    useRegionalSts: common.useRegionalSts,
    audience: credentials.audience,
    mountPath: credentials.mountPath,
    volumeName: credentials.volumeName,
    tokenPath: credentials.tokenPath,
    containerCredentials: credentials,
  };
}
