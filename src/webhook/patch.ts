/**
 * The JSON Patch (RFC 6902) for one pod (upstream `getPodSpecPatch`): the Pod Identity label,
 * the projected token volume, and the containers and init containers re-encoded whole with
 * their new environment and mounts. Operation order, paths and container encoding match the
 * upstream webhook's output.
 */
import { posix } from 'node:path';
import { POD_IDENTITY_LABEL } from './constants.js';
import { CONTAINER_LIST } from './container-schema.js';
import { addEnvToContainer, type EnvInjection } from './container-env.js';
import { marshalGoValue, type JsonObject, type JsonValue, type MarshalOptions } from './go-json.js';
import type { PodPatchConfig } from './patch-config.js';
import type { DecodedPod } from './pod.js';

/** One JSON Patch operation; the webhook only ever adds. */
export interface PatchOperation {
  op: 'add';
  path: string;
  value: JsonValue;
}

/** Escapes one JSON Pointer (RFC 6901) segment: `~` → `~0`, `/` → `~1`. */
export function escapeJsonPointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

// Go's filepath.Join: empty elements are ignored, the result is cleaned, "" when all are empty.
function goJoin(...parts: string[]): string {
  const nonEmpty = parts.filter((p) => p !== '');
  return nonEmpty.length === 0 ? '' : posix.join(...nonEmpty);
}

/** True when the pod is scheduled on Windows nodes (either node-selector label). */
export function isWindowsPod(pod: DecodedPod): boolean {
  return (
    pod.nodeSelector['beta.kubernetes.io/os'] === 'windows' ||
    pod.nodeSelector['kubernetes.io/os'] === 'windows'
  );
}

/**
 * Where containers find the token: `mountPath/tokenPath`, or on Windows the same path as
 * `C:\…` with backslashes (the mount path itself stays as is, as upstream).
 */
export function tokenFilePath(pod: DecodedPod, config: PodPatchConfig): string {
  const path = goJoin(config.mountPath, config.tokenPath);
  return isWindowsPod(pod) ? `C:${path.replace(/\//g, '\\')}` : path;
}

/** The projected service-account token volume. */
export function tokenVolume(config: PodPatchConfig): JsonObject {
  const token: JsonObject = {};
  // ServiceAccountTokenProjection.Audience is omitempty in Go.
  if (config.audience !== '') token.audience = config.audience;
  token.expirationSeconds = config.tokenExpiration;
  token.path = config.tokenPath;
  return { name: config.volumeName, projected: { sources: [{ serviceAccountToken: token }] } };
}

/** The patch and whether it changes anything (a pod already carrying it all is "unchanged"). */
export interface PodPatch {
  patch: PatchOperation[];
  changed: boolean;
}

/**
 * Builds the patch for `pod`.
 *
 * @example
 * const { patch } = buildPodPatch(pod, config, { region: 'us-east-1' });
 * Buffer.from(JSON.stringify(patch)).toString('base64'); // AdmissionResponse.patch
 */
export function buildPodPatch(
  pod: DecodedPod,
  config: PodPatchConfig,
  injection: EnvInjection,
  marshal: MarshalOptions = {},
): PodPatch {
  const tokenFile = tokenFilePath(pod, config);
  let changed = false;
  const mutateAll = (containers: readonly JsonObject[]): JsonObject[] =>
    containers.map((container) => {
      const name = typeof container.name === 'string' ? container.name : '';
      if (config.containersToSkip.has(name)) return container;
      const result = addEnvToContainer(container, tokenFile, config, injection);
      if (result.changed) changed = true;
      return result.container;
    });
  const initContainers = mutateAll(pod.initContainers);
  const containers = mutateAll(pod.containers);

  const patch: PatchOperation[] = [];
  if (config.containerCredentials !== undefined) {
    patch.push(
      pod.labels === undefined
        ? { op: 'add', path: '/metadata/labels', value: { [POD_IDENTITY_LABEL]: 'enabled' } }
        : {
            op: 'add',
            path: `/metadata/labels/${escapeJsonPointer(POD_IDENTITY_LABEL)}`,
            value: 'enabled',
          },
    );
    changed = true;
  }
  if (!(pod.volumeNames ?? []).includes(config.volumeName)) {
    const volume = tokenVolume(config);
    patch.push(
      pod.volumeNames === undefined
        ? { op: 'add', path: '/spec/volumes', value: [volume] }
        : { op: 'add', path: '/spec/volumes/0', value: volume },
    );
    changed = true;
  }
  patch.push({
    op: 'add',
    path: '/spec/containers',
    value: marshalGoValue(CONTAINER_LIST, containers, marshal),
  });
  if (initContainers.length > 0) {
    patch.push({
      op: 'add',
      path: '/spec/initContainers',
      value: marshalGoValue(CONTAINER_LIST, initContainers, marshal),
    });
  }
  return { patch, changed };
}
