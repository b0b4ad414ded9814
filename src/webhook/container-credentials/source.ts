/**
 * Pod Identity (container credentials) configuration: which service accounts have a pod
 * identity association, and what to inject for them (upstream `pkg/containercredentials`).
 *
 * The mutation asks a {@link PodIdentityAssociationSource}. Implementations:
 * - {@link StaticAssociationSource}: a fixed set (tests, embedding);
 * - `FileAssociationSource` (`file-source.ts`): upstream's watched JSON file format;
 * - `CachedAssociationSource` (`cached-source.ts`): TTL cache, single-flight and timeout in
 *   front of a slow source;
 * - `ServerAssociationSource` (`server-source.ts`): EKS `ListPodIdentityAssociations` on a
 *   Latchkey server (`--server URL`), to be wrapped in `CachedAssociationSource`.
 */
import { ContainerCredentialsDefaults } from '../constants.js';

/** What a Pod Identity pod gets (upstream `PatchConfig`). */
export interface ContainerCredentialsConfig {
  /** Audience of the projected token, `pods.eks.amazonaws.com` on EKS. */
  audience: string;
  /** Directory the token volume is mounted at. */
  mountPath: string;
  /** Name of the projected volume. */
  volumeName: string;
  /** File name of the token inside the volume. */
  tokenPath: string;
  /** `AWS_CONTAINER_CREDENTIALS_FULL_URI`: the node agent's credentials URL. */
  fullUri: string;
}

/** Looks up whether a service account has a pod identity association. */
export interface PodIdentityAssociationSource {
  /**
   * The injection settings when `namespace/serviceAccount` has an association, else undefined.
   * Must not reject for "no association"; a rejection means the source failed.
   */
  lookup(
    namespace: string,
    serviceAccount: string,
  ): Promise<ContainerCredentialsConfig | undefined>;
  /** Releases watches, timers or connections. */
  close?(): Promise<void>;
}

/**
 * The default injection settings, with `overrides` applied (the
 * `--container-credentials-*` flags).
 *
 * @example
 * containerCredentialsConfig({ fullUri: 'http://127.0.0.1:2703/v1/credentials' });
 */
export function containerCredentialsConfig(
  overrides: Partial<ContainerCredentialsConfig> = {},
): ContainerCredentialsConfig {
  return { ...ContainerCredentialsDefaults, ...overrides };
}

/** An identity key, `namespace/serviceAccount`. */
export function identityKey(namespace: string, serviceAccount: string): string {
  return `${namespace}/${serviceAccount}`;
}

/** A fixed set of associated service accounts. */
export class StaticAssociationSource implements PodIdentityAssociationSource {
  readonly #identities: Map<string, ContainerCredentialsConfig>;

  /**
   * @param identities `namespace/serviceAccount` keys, each with its settings.
   * @example
   * new StaticAssociationSource(new Map([['default/app', containerCredentialsConfig()]]));
   */
  constructor(identities: Map<string, ContainerCredentialsConfig> = new Map()) {
    this.#identities = identities;
  }

  lookup(
    namespace: string,
    serviceAccount: string,
  ): Promise<ContainerCredentialsConfig | undefined> {
    return Promise.resolve(this.#identities.get(identityKey(namespace, serviceAccount)));
  }
}
