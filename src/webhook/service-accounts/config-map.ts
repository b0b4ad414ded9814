/**
 * The `pod-identity-webhook` ConfigMap (`--watch-config-map` upstream): service accounts
 * configured without annotations. `data.config` is JSON keyed by `namespace/name` (namespace
 * `*` matches any), e.g. `{"app/web":{"RoleARN":"arn:…","Audience":"sts.amazonaws.com",
 * "UseRegionalSTS":true,"TokenExpiration":0}}`.
 */
import { clampTokenExpiration } from '../annotations.js';
import { WebhookError } from '../errors.js';
import type { ServiceAccountEntry } from './entry.js';

/** Name of the ConfigMap the webhook reads. */
export const CONFIG_MAP_NAME = 'pod-identity-webhook';

/** The ConfigMap shape read (a `V1ConfigMap` fits). */
export interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string> | null;
}

// Go's encoding/json matches struct fields case-insensitively.
function field(obj: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Parses the ConfigMap's `data.config` into entries keyed `namespace/name`. An entry without
 * a lifetime gets `defaultTokenExpiration`; keys without a `/` are skipped.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_SOURCE` when `config` is not a JSON object of entries.
 */
export function entriesFromConfigMap(
  cm: ConfigMapLike,
  defaultTokenExpiration: number,
): Map<string, ServiceAccountEntry> {
  const entries = new Map<string, ServiceAccountEntry>();
  const raw = cm.data?.config;
  if (raw === undefined || raw === '') return entries;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new WebhookError(
      'ERR_WEBHOOK_SOURCE',
      `ConfigMap ${CONFIG_MAP_NAME}: config is not JSON`,
      {
        cause: err,
      },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new WebhookError(
      'ERR_WEBHOOK_SOURCE',
      `ConfigMap ${CONFIG_MAP_NAME}: config is not a JSON object`,
    );
  }
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const slash = key.indexOf('/');
    if (slash < 0 || typeof value !== 'object' || value === null) continue;
    const v = value as Record<string, unknown>;
    const roleArn = field(v, 'RoleARN');
    const audience = field(v, 'Audience');
    const regional = field(v, 'UseRegionalSTS');
    const expiration = field(v, 'TokenExpiration');
    entries.set(`${key.slice(0, slash)}/${key.slice(slash + 1).split('/')[0]}`, {
      roleArn: typeof roleArn === 'string' ? roleArn : '',
      // Upstream applies no default audience to ConfigMap entries.
      audience: typeof audience === 'string' ? audience : '',
      useRegionalSts: regional === true,
      tokenExpiration:
        typeof expiration === 'number' && expiration !== 0
          ? clampTokenExpiration(expiration)
          : defaultTokenExpiration,
    });
  }
  return entries;
}
