/**
 * IRSA (web identity) settings for a pod, from its service account's annotations (upstream
 * `buildPodPatchConfig`, STS web identity branch), waiting up to the grace period for a
 * service account the cache has not seen yet.
 */
import type { Logger } from 'pino';
import { IRSA_TOKEN_PATH, IRSA_VOLUME_NAME } from './constants.js';
import type { WebhookMetrics } from './metrics.js';
import { podOverrides, type PodPatchConfig } from './patch-config.js';
import type { DecodedPod } from './pod.js';
import type { ServiceAccountCache } from './service-accounts/cache.js';

/** What {@link webIdentityPatchConfig} needs. */
export interface WebIdentityDeps {
  cache: ServiceAccountCache;
  annotationDomain: string;
  /** `--token-mount-path`. */
  mountPath: string;
  /** `--service-account-lookup-grace-period`, in milliseconds; 0 disables waiting. */
  graceMs: number;
  metrics?: WebhookMetrics;
  logger?: Logger;
}

/** Why a pod gets no IRSA settings. */
export type NoWebIdentityReason = 'service-account-not-found' | 'no-role-arn';

/**
 * The IRSA settings for `pod`, or why there are none.
 *
 * @example
 * const result = await webIdentityPatchConfig(pod, { cache, annotationDomain: 'eks.amazonaws.com', mountPath, graceMs: 100 });
 * if ('config' in result) buildPodPatch(pod, result.config, injection);
 */
export async function webIdentityPatchConfig(
  pod: DecodedPod,
  deps: WebIdentityDeps,
): Promise<{ config: PodPatchConfig } | { reason: NoWebIdentityReason }> {
  const { cache, graceMs, metrics, logger } = deps;
  const ref = `${pod.namespace}/${pod.serviceAccountName}`;
  let lookup = cache.get(pod.namespace, pod.serviceAccountName);
  if (!lookup.found) {
    if (graceMs <= 0) {
      metrics?.serviceAccountMissing();
    } else {
      logger?.warn(
        { serviceAccount: ref, graceMs },
        'service account not in the cache; waiting for it',
      );
      const arrived = await cache.waitFor(pod.namespace, pod.serviceAccountName, graceMs);
      lookup = cache.get(pod.namespace, pod.serviceAccountName);
      if (!arrived || !lookup.found) {
        logger?.warn(
          { serviceAccount: ref, graceMs },
          'service account not found in the cache; not mutating',
        );
        metrics?.serviceAccountMissing();
        return { reason: 'service-account-not-found' };
      }
    }
  }
  const entry = lookup.entry;
  if (!entry) return { reason: lookup.found ? 'no-role-arn' : 'service-account-not-found' };

  const overrides = podOverrides(
    pod,
    deps.annotationDomain,
    entry.tokenExpiration,
    (annotation, value) =>
      logger?.debug({ serviceAccount: ref, annotation, value }, 'ignoring invalid pod annotation'),
  );
  return {
    config: {
      containersToSkip: overrides.containersToSkip,
      tokenExpiration: overrides.tokenExpiration,
      useRegionalSts: entry.useRegionalSts,
      audience: entry.audience,
      mountPath: deps.mountPath,
      volumeName: IRSA_VOLUME_NAME,
      tokenPath: IRSA_TOKEN_PATH,
      webIdentity: { roleArn: entry.roleArn },
    },
  };
}
