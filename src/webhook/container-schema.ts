/**
 * The JSON shape of `corev1.Container` in k8s.io/api v0.36.0, the version the upstream webhook
 * is built with: field order and `omitempty`/pointer tags, read from `core/v1/types.go`.
 * Used to re-encode containers exactly as the upstream webhook's patches do.
 */
import type { GoField, GoType } from './go-json.js';

const STRING: GoType = { kind: 'string' };
const BOOL: GoType = { kind: 'bool' };
const INT32: GoType = { kind: 'int', bits: 32 };
const INT64: GoType = { kind: 'int', bits: 64 };
const INT_OR_STRING: GoType = { kind: 'intOrString' };
const QUANTITY: GoType = { kind: 'quantity' };

const slice = (elem: GoType): GoType => ({ kind: 'slice', elem });
const map = (elem: GoType): GoType => ({ kind: 'map', elem });
const struct = (name: string, fields: readonly GoField[]): GoType => ({
  kind: 'struct',
  name,
  fields,
});

/** `json:"name"`: always encoded. */
const req = (json: string, type: GoType): GoField => ({
  json,
  type,
  omitEmpty: false,
  pointer: false,
});
/** `json:"name,omitempty"`. */
const opt = (json: string, type: GoType): GoField => ({
  json,
  type,
  omitEmpty: true,
  pointer: false,
});
/** `*T` with `json:"name,omitempty"`. */
const ptr = (json: string, type: GoType): GoField => ({
  json,
  type,
  omitEmpty: true,
  pointer: true,
});
/** `*T` without omitempty: encoded as null when absent. */
const nullablePtr = (json: string, type: GoType): GoField => ({
  json,
  type,
  omitEmpty: false,
  pointer: true,
});

const LOCAL_OBJECT_REFERENCE = [opt('name', STRING)];

const EXEC_ACTION = struct('ExecAction', [opt('command', slice(STRING))]);
const HTTP_HEADER = struct('HTTPHeader', [req('name', STRING), req('value', STRING)]);
const HTTP_GET_ACTION = struct('HTTPGetAction', [
  opt('path', STRING),
  req('port', INT_OR_STRING),
  opt('host', STRING),
  opt('scheme', STRING),
  opt('httpHeaders', slice(HTTP_HEADER)),
]);
const TCP_SOCKET_ACTION = struct('TCPSocketAction', [
  req('port', INT_OR_STRING),
  opt('host', STRING),
]);
const GRPC_ACTION = struct('GRPCAction', [req('port', INT32), nullablePtr('service', STRING)]);
const SLEEP_ACTION = struct('SleepAction', [req('seconds', INT64)]);

const PROBE = struct('Probe', [
  // ProbeHandler, inlined.
  ptr('exec', EXEC_ACTION),
  ptr('httpGet', HTTP_GET_ACTION),
  ptr('tcpSocket', TCP_SOCKET_ACTION),
  ptr('grpc', GRPC_ACTION),
  opt('initialDelaySeconds', INT32),
  opt('timeoutSeconds', INT32),
  opt('periodSeconds', INT32),
  opt('successThreshold', INT32),
  opt('failureThreshold', INT32),
  ptr('terminationGracePeriodSeconds', INT64),
]);

const LIFECYCLE_HANDLER = struct('LifecycleHandler', [
  ptr('exec', EXEC_ACTION),
  ptr('httpGet', HTTP_GET_ACTION),
  ptr('tcpSocket', TCP_SOCKET_ACTION),
  ptr('sleep', SLEEP_ACTION),
]);
const LIFECYCLE = struct('Lifecycle', [
  ptr('postStart', LIFECYCLE_HANDLER),
  ptr('preStop', LIFECYCLE_HANDLER),
  ptr('stopSignal', STRING),
]);

const KEY_SELECTOR = (name: string) =>
  struct(name, [...LOCAL_OBJECT_REFERENCE, req('key', STRING), ptr('optional', BOOL)]);

const ENV_VAR_SOURCE = struct('EnvVarSource', [
  ptr(
    'fieldRef',
    struct('ObjectFieldSelector', [opt('apiVersion', STRING), req('fieldPath', STRING)]),
  ),
  ptr(
    'resourceFieldRef',
    struct('ResourceFieldSelector', [
      opt('containerName', STRING),
      req('resource', STRING),
      opt('divisor', QUANTITY),
    ]),
  ),
  ptr('configMapKeyRef', KEY_SELECTOR('ConfigMapKeySelector')),
  ptr('secretKeyRef', KEY_SELECTOR('SecretKeySelector')),
  ptr(
    'fileKeyRef',
    struct('FileKeySelector', [
      req('volumeName', STRING),
      req('path', STRING),
      req('key', STRING),
      ptr('optional', BOOL),
    ]),
  ),
]);

/** `corev1.EnvVar`. */
export const ENV_VAR = struct('EnvVar', [
  req('name', STRING),
  opt('value', STRING),
  ptr('valueFrom', ENV_VAR_SOURCE),
]);

const ENV_SOURCE_REF = (name: string) =>
  struct(name, [...LOCAL_OBJECT_REFERENCE, ptr('optional', BOOL)]);
const ENV_FROM_SOURCE = struct('EnvFromSource', [
  opt('prefix', STRING),
  ptr('configMapRef', ENV_SOURCE_REF('ConfigMapEnvSource')),
  ptr('secretRef', ENV_SOURCE_REF('SecretEnvSource')),
]);

const CONTAINER_PORT = struct('ContainerPort', [
  opt('name', STRING),
  opt('hostPort', INT32),
  req('containerPort', INT32),
  opt('protocol', STRING),
  opt('hostIP', STRING),
]);

const RESOURCE_REQUIREMENTS = struct('ResourceRequirements', [
  opt('limits', map(QUANTITY)),
  opt('requests', map(QUANTITY)),
  opt('claims', slice(struct('ResourceClaim', [req('name', STRING), opt('request', STRING)]))),
]);

const CONTAINER_RESIZE_POLICY = struct('ContainerResizePolicy', [
  req('resourceName', STRING),
  req('restartPolicy', STRING),
]);

const CONTAINER_RESTART_RULE = struct('ContainerRestartRule', [
  opt('action', STRING),
  ptr(
    'exitCodes',
    struct('ContainerRestartRuleOnExitCodes', [
      opt('operator', STRING),
      opt('values', slice(INT32)),
    ]),
  ),
]);

/** `corev1.VolumeMount`. */
export const VOLUME_MOUNT = struct('VolumeMount', [
  req('name', STRING),
  opt('readOnly', BOOL),
  ptr('recursiveReadOnly', STRING),
  req('mountPath', STRING),
  opt('subPath', STRING),
  ptr('mountPropagation', STRING),
  opt('subPathExpr', STRING),
]);

const VOLUME_DEVICE = struct('VolumeDevice', [req('name', STRING), req('devicePath', STRING)]);

const SECURITY_CONTEXT = struct('SecurityContext', [
  ptr(
    'capabilities',
    struct('Capabilities', [opt('add', slice(STRING)), opt('drop', slice(STRING))]),
  ),
  ptr('privileged', BOOL),
  ptr(
    'seLinuxOptions',
    struct('SELinuxOptions', [
      opt('user', STRING),
      opt('role', STRING),
      opt('type', STRING),
      opt('level', STRING),
    ]),
  ),
  ptr(
    'windowsOptions',
    struct('WindowsSecurityContextOptions', [
      ptr('gmsaCredentialSpecName', STRING),
      ptr('gmsaCredentialSpec', STRING),
      ptr('runAsUserName', STRING),
      ptr('hostProcess', BOOL),
    ]),
  ),
  ptr('runAsUser', INT64),
  ptr('runAsGroup', INT64),
  ptr('runAsNonRoot', BOOL),
  ptr('readOnlyRootFilesystem', BOOL),
  ptr('allowPrivilegeEscalation', BOOL),
  ptr('procMount', STRING),
  ptr(
    'seccompProfile',
    struct('SeccompProfile', [req('type', STRING), ptr('localhostProfile', STRING)]),
  ),
  ptr(
    'appArmorProfile',
    struct('AppArmorProfile', [req('type', STRING), ptr('localhostProfile', STRING)]),
  ),
]);

/** `corev1.Container` (also the shape of init containers). */
export const CONTAINER = struct('Container', [
  req('name', STRING),
  opt('image', STRING),
  opt('command', slice(STRING)),
  opt('args', slice(STRING)),
  opt('workingDir', STRING),
  opt('ports', slice(CONTAINER_PORT)),
  opt('envFrom', slice(ENV_FROM_SOURCE)),
  opt('env', slice(ENV_VAR)),
  opt('resources', RESOURCE_REQUIREMENTS),
  opt('resizePolicy', slice(CONTAINER_RESIZE_POLICY)),
  ptr('restartPolicy', STRING),
  opt('restartPolicyRules', slice(CONTAINER_RESTART_RULE)),
  opt('volumeMounts', slice(VOLUME_MOUNT)),
  opt('volumeDevices', slice(VOLUME_DEVICE)),
  ptr('livenessProbe', PROBE),
  ptr('readinessProbe', PROBE),
  ptr('startupProbe', PROBE),
  ptr('lifecycle', LIFECYCLE),
  opt('terminationMessagePath', STRING),
  opt('terminationMessagePolicy', STRING),
  opt('imagePullPolicy', STRING),
  ptr('securityContext', SECURITY_CONTEXT),
  opt('stdin', BOOL),
  opt('stdinOnce', BOOL),
  opt('tty', BOOL),
]);

/** `[]corev1.Container`. */
export const CONTAINER_LIST: GoType = slice(CONTAINER);

/** `map[string]string`, as in labels, annotations and node selectors. */
export const STRING_MAP: GoType = map(STRING);

/** The few `corev1.Volume` fields the webhook reads (the volume source is passed through). */
export const VOLUME_LIST: GoType = slice(struct('Volume', [req('name', STRING)]));
