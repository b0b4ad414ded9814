/**
 * Adding the credential environment and the token mount to one container (upstream
 * `addEnvToContainer`), leaving alone what the container already sets.
 */
import { Env } from './constants.js';
import type { JsonObject, JsonValue } from './go-json.js';
import type { PodPatchConfig } from './patch-config.js';

/** Webhook-wide settings that reach every mutated container. */
export interface EnvInjection {
  /** `--aws-default-region`: sets `AWS_REGION` and `AWS_DEFAULT_REGION` when non-empty. */
  region: string;
  /** `--inject-endpoint`: sets `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL` (Latchkey). */
  endpointUrl?: string;
}

const WEB_IDENTITY_KEYS = new Set<string>([Env.roleArn, Env.webIdentityTokenFile]);
const CONTAINER_CREDENTIALS_KEYS = new Set<string>([
  Env.containerCredentialsFullUri,
  Env.containerAuthorizationTokenFile,
]);
const REGION_KEYS = new Set<string>([Env.region, Env.defaultRegion]);

function list(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}

function nameOf(item: JsonValue): string {
  if (
    typeof item === 'object' &&
    item !== null &&
    !Array.isArray(item) &&
    typeof item.name === 'string'
  ) {
    return item.name;
  }
  return '';
}

/**
 * Returns `container` with the variables and mount it lacks, and whether anything was added.
 * A container that already has the credential variables, a region and
 * `AWS_STS_REGIONAL_ENDPOINTS` is returned untouched (without a mount), as upstream.
 *
 * @example
 * addEnvToContainer({ name: 'app' }, '/var/run/secrets/eks.amazonaws.com/serviceaccount/token', config, { region: '' });
 */
export function addEnvToContainer(
  container: JsonObject,
  tokenFilePath: string,
  config: PodPatchConfig,
  injection: EnvInjection,
): { container: JsonObject; changed: boolean } {
  const current = list(container.env);
  const names = new Set(current.map(nameOf));
  const webIdentityDefined = [...WEB_IDENTITY_KEYS].some((k) => names.has(k));
  const containerCredentialsDefined = [...CONTAINER_CREDENTIALS_KEYS].some((k) => names.has(k));
  const regionDefined = [...REGION_KEYS].some((k) => names.has(k));
  const regionalStsDefined = names.has(Env.stsRegionalEndpoints);
  const endpointsDefined =
    injection.endpointUrl === undefined ||
    (names.has(Env.endpointUrlSts) && names.has(Env.endpointUrl));

  const identityDefined =
    (config.webIdentity !== undefined && webIdentityDefined) ||
    (config.containerCredentials !== undefined && containerCredentialsDefined);
  if (identityDefined && regionDefined && regionalStsDefined && endpointsDefined) {
    return { container, changed: false };
  }

  const env: JsonValue[] = [...current];
  const add = (name: string, value: string) => env.push({ name, value });
  if (!regionalStsDefined && config.useRegionalSts) add(Env.stsRegionalEndpoints, 'regional');
  if (!regionDefined && injection.region !== '') {
    add(Env.defaultRegion, injection.region);
    add(Env.region, injection.region);
  }
  if (config.containerCredentials !== undefined) {
    if (!containerCredentialsDefined) {
      add(Env.containerCredentialsFullUri, config.containerCredentials.fullUri);
      add(Env.containerAuthorizationTokenFile, tokenFilePath);
    }
  } else if (config.webIdentity !== undefined && !webIdentityDefined) {
    add(Env.roleArn, config.webIdentity.roleArn);
    add(Env.webIdentityTokenFile, tokenFilePath);
  }
  if (injection.endpointUrl !== undefined) {
    if (!names.has(Env.endpointUrlSts)) add(Env.endpointUrlSts, injection.endpointUrl);
    if (!names.has(Env.endpointUrl)) add(Env.endpointUrl, injection.endpointUrl);
  }

  const mounts = list(container.volumeMounts);
  const mounted = mounts.some((m) => nameOf(m) === config.volumeName);
  const changed = env.length !== current.length || !mounted;
  const out: JsonObject = { ...container };
  if (env.length !== current.length) out.env = env;
  if (!mounted) {
    out.volumeMounts = [
      ...mounts,
      { name: config.volumeName, readOnly: true, mountPath: config.mountPath },
    ];
  }
  return { container: out, changed };
}
