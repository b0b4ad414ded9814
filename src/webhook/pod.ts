/**
 * Decoding the Pod of an AdmissionRequest into the few fields the mutation reads, with Go's
 * decoding rules for them (see {@link checkGoValue}). Containers stay JSON objects so the
 * patch can re-encode them whole.
 */
import { CONTAINER_LIST, STRING_MAP, VOLUME_LIST } from './container-schema.js';
import { WebhookError } from './errors.js';
import {
  checkGoValue,
  GoDecodeError,
  type GoType,
  type JsonObject,
  type JsonValue,
} from './go-json.js';

/** The parts of a Pod the webhook reads. */
export interface DecodedPod {
  name: string;
  generateName: string;
  /** The AdmissionRequest's namespace (a new pod's own namespace field is often empty). */
  namespace: string;
  annotations: Readonly<Record<string, string>>;
  /** Undefined when the pod has no `metadata.labels` at all (Go's nil map). */
  labels: Readonly<Record<string, string>> | undefined;
  serviceAccountName: string;
  nodeSelector: Readonly<Record<string, string>>;
  /** Names of the pod's volumes; undefined when `spec.volumes` is absent (Go's nil slice). */
  volumeNames: readonly string[] | undefined;
  containers: readonly JsonObject[];
  initContainers: readonly JsonObject[];
}

const STRING: GoType = { kind: 'string' };

const POD_SHAPE: GoType = {
  kind: 'struct',
  name: 'Pod',
  fields: [
    {
      json: 'metadata',
      omitEmpty: true,
      pointer: false,
      type: {
        kind: 'struct',
        name: 'ObjectMeta',
        fields: [
          { json: 'name', type: STRING, omitEmpty: true, pointer: false },
          { json: 'generateName', type: STRING, omitEmpty: true, pointer: false },
          { json: 'namespace', type: STRING, omitEmpty: true, pointer: false },
          { json: 'labels', type: STRING_MAP, omitEmpty: true, pointer: false },
          { json: 'annotations', type: STRING_MAP, omitEmpty: true, pointer: false },
        ],
      },
    },
    {
      json: 'spec',
      omitEmpty: true,
      pointer: false,
      type: {
        kind: 'struct',
        name: 'PodSpec',
        fields: [
          { json: 'volumes', type: VOLUME_LIST, omitEmpty: true, pointer: false },
          { json: 'initContainers', type: CONTAINER_LIST, omitEmpty: true, pointer: false },
          { json: 'containers', type: CONTAINER_LIST, omitEmpty: false, pointer: false },
          { json: 'nodeSelector', type: STRING_MAP, omitEmpty: true, pointer: false },
          { json: 'serviceAccountName', type: STRING, omitEmpty: true, pointer: false },
        ],
      },
    },
  ],
};

function asObject(value: JsonValue | undefined): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}

function asStringMap(value: JsonValue | undefined): Record<string, string> {
  return asObject(value) as Record<string, string>;
}

function asContainers(value: JsonValue | undefined): JsonObject[] {
  // A null element decodes to Go's zero Container.
  return Array.isArray(value) ? value.map(asObject) : [];
}

/**
 * Decodes `request.object` as a Pod of namespace `namespace`.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_POD_DECODE` when Go's decoder would fail: no object,
 *   not a JSON object, or a field the webhook reads of the wrong type.
 * @example
 * const pod = decodePod(review.request.object, review.request.namespace);
 * pod.containers[0]?.name; // 'app'
 */
export function decodePod(object: JsonValue | undefined, namespace: string): DecodedPod {
  if (object === undefined || object === null) {
    throw new WebhookError(
      'ERR_WEBHOOK_POD_DECODE',
      'cannot decode pod: request.object is missing',
    );
  }
  try {
    checkGoValue(POD_SHAPE, object, 'pod');
  } catch (err) {
    if (err instanceof GoDecodeError) {
      throw new WebhookError('ERR_WEBHOOK_POD_DECODE', `cannot decode pod: ${err.message}`);
    }
    throw err;
  }
  const pod = object as JsonObject;
  const metadata = asObject(pod.metadata);
  const spec = asObject(pod.spec);
  const labels = metadata.labels;
  const volumes = spec.volumes;
  return {
    name: typeof metadata.name === 'string' ? metadata.name : '',
    generateName: typeof metadata.generateName === 'string' ? metadata.generateName : '',
    namespace,
    annotations: asStringMap(metadata.annotations),
    labels: labels === undefined || labels === null ? undefined : asStringMap(labels),
    serviceAccountName: typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : '',
    nodeSelector: asStringMap(spec.nodeSelector),
    volumeNames: Array.isArray(volumes)
      ? volumes.map((v) => {
          const name = asObject(v).name;
          return typeof name === 'string' ? name : '';
        })
      : undefined,
    containers: asContainers(spec.containers),
    initContainers: asContainers(spec.initContainers),
  };
}

/** The pod's name for log lines: its name, or its generateName prefix for a new pod. */
export function podDisplayName(pod: DecodedPod): string {
  return pod.name !== '' ? pod.name : pod.generateName;
}
