/**
 * Deciding and building the mutation of one pod: opt-outs first, then Pod Identity, then
 * IRSA, then the patch (upstream `MutatePod` minus the AdmissionReview envelope).
 */
import { randomInt as cryptoRandomInt } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DEFAULT_ANNOTATION_DOMAIN,
  DEFAULT_MOUNT_PATH,
  DEFAULT_SA_LOOKUP_GRACE_MS,
  SKIP_POD_LABEL,
} from './constants.js';
import {
  StaticAssociationSource,
  type PodIdentityAssociationSource,
} from './container-credentials/source.js';
import type { EnvInjection } from './container-env.js';
import type { MarshalOptions } from './go-json.js';
import type { MutationMethod, WebhookMetrics } from './metrics.js';
import { containerCredentialsPatchConfig, type RandomInt } from './mutate-container-credentials.js';
import { webIdentityPatchConfig } from './mutate-irsa.js';
import { buildPodPatch, type PatchOperation } from './patch.js';
import { podDisplayName, type DecodedPod } from './pod.js';
import type { ServiceAccountCache } from './service-accounts/cache.js';

/** Options of {@link PodMutator}. */
export interface PodMutatorOptions {
  /** Where service accounts are looked up. */
  serviceAccounts: ServiceAccountCache;
  /** Pod identity associations (default: none). */
  associations?: PodIdentityAssociationSource;
  /** `--annotation-prefix` (default `eks.amazonaws.com`). */
  annotationDomain?: string;
  /** `--token-mount-path` for IRSA tokens. */
  mountPath?: string;
  /** `--aws-default-region`: injected as `AWS_REGION` / `AWS_DEFAULT_REGION` when set. */
  region?: string;
  /** `--inject-endpoint`: Latchkey's URL, injected as `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`. */
  endpointUrl?: string;
  /** `--service-account-lookup-grace-period` in milliseconds (default 100). */
  serviceAccountLookupGraceMs?: number;
  /** Keep container fields unknown to the k8s.io/api v0.36 schema (default false, as upstream). */
  preserveUnknownFields?: boolean;
  /** Random source of the token-lifetime jitter (tests pass a fixed one). */
  randomInt?: RandomInt;
  metrics?: WebhookMetrics;
  logger?: Logger;
}

/** Why a pod was left alone. */
export type SkipReason =
  'skip-label' | 'no-service-account' | 'service-account-not-found' | 'no-role-arn';

/** The decision for one pod. */
export type MutationOutcome =
  | { mutated: false; reason: SkipReason }
  | { mutated: true; method: MutationMethod; patch: PatchOperation[]; changed: boolean };

/** Mutates pods according to their service accounts and associations. */
export class PodMutator {
  readonly #o: Required<
    Pick<
      PodMutatorOptions,
      'annotationDomain' | 'mountPath' | 'serviceAccountLookupGraceMs' | 'randomInt'
    >
  > &
    PodMutatorOptions & { associations: PodIdentityAssociationSource };
  readonly #injection: EnvInjection;
  readonly #marshal: MarshalOptions;

  constructor(options: PodMutatorOptions) {
    this.#o = {
      ...options,
      associations: options.associations ?? new StaticAssociationSource(),
      annotationDomain: options.annotationDomain ?? DEFAULT_ANNOTATION_DOMAIN,
      mountPath: options.mountPath ?? DEFAULT_MOUNT_PATH,
      serviceAccountLookupGraceMs:
        options.serviceAccountLookupGraceMs ?? DEFAULT_SA_LOOKUP_GRACE_MS,
      randomInt: options.randomInt ?? ((max) => cryptoRandomInt(max)),
    };
    this.#injection = { region: options.region ?? '' };
    if (options.endpointUrl !== undefined) this.#injection.endpointUrl = options.endpointUrl;
    this.#marshal = { preserveUnknownFields: options.preserveUnknownFields ?? false };
  }

  /**
   * Decides what `pod` gets and builds the patch.
   *
   * @example
   * const outcome = await mutator.mutate(decodePod(request.object, request.namespace));
   * if (outcome.mutated) respondWith(outcome.patch);
   */
  async mutate(pod: DecodedPod): Promise<MutationOutcome> {
    const o = this.#o;
    const log = {
      pod: podDisplayName(pod),
      namespace: pod.namespace,
      serviceAccount: pod.serviceAccountName,
    };
    if (pod.labels !== undefined && SKIP_POD_LABEL in pod.labels) {
      o.logger?.debug(log, 'pod not mutated: it carries the skip label');
      return { mutated: false, reason: 'skip-label' };
    }
    if (pod.serviceAccountName === '') {
      // The API server's ServiceAccount admission normally fills this in before webhooks run.
      o.logger?.info(log, 'pod not mutated: it names no service account');
      return { mutated: false, reason: 'no-service-account' };
    }

    let method: MutationMethod = 'container_credentials';
    let config = await containerCredentialsPatchConfig(pod, {
      associations: o.associations,
      cache: o.serviceAccounts,
      annotationDomain: o.annotationDomain,
      randomInt: o.randomInt,
      ...(o.logger && { logger: o.logger }),
    });
    if (!config) {
      const result = await webIdentityPatchConfig(pod, {
        cache: o.serviceAccounts,
        annotationDomain: o.annotationDomain,
        mountPath: o.mountPath,
        graceMs: o.serviceAccountLookupGraceMs,
        ...(o.metrics && { metrics: o.metrics }),
        ...(o.logger && { logger: o.logger }),
      });
      if ('reason' in result) {
        o.logger?.debug({ ...log, reason: result.reason }, 'pod not mutated');
        return { mutated: false, reason: result.reason };
      }
      config = result.config;
      method = 'sts_web_identity';
    }
    o.metrics?.podMutated(method);

    const { patch, changed } = buildPodPatch(pod, config, this.#injection, this.#marshal);
    if (changed) {
      o.logger?.info(
        {
          ...log,
          method,
          roleArn: config.webIdentity?.roleArn,
          tokenExpiration: config.tokenExpiration,
        },
        'pod mutated',
      );
    } else {
      o.logger?.debug({ ...log, method }, 'pod not changed: variables and mounts already present');
    }
    return { mutated: true, method, patch, changed };
  }
}
