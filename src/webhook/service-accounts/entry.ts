/**
 * What the webhook keeps of a ServiceAccount: the role and token settings read from its
 * annotations, with the flag defaults filled in (upstream `pkg/cache` `addSA`).
 */
import type { Logger } from 'pino';
import { parseGoBool, parseTokenExpiration } from '../annotations.js';
import { Annotation } from '../constants.js';

/** A service account's IRSA settings. */
export interface ServiceAccountEntry {
  /** `eks.amazonaws.com/role-arn`; empty when the account has none. */
  roleArn: string;
  /** Token audience: the annotation, else `--token-audience`. */
  audience: string;
  /** Whether to set `AWS_STS_REGIONAL_ENDPOINTS=regional`. */
  useRegionalSts: boolean;
  /** Projected token lifetime in seconds, clamped to [600, 86400]. */
  tokenExpiration: number;
}

/** The minimal ServiceAccount shape the webhook reads (a `V1ServiceAccount` fits). */
export interface ServiceAccountLike {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string> | null;
  };
}

/** Builds a role ARN from a bare role name (`--compose-role-arn`). */
export interface ComposeRoleArn {
  accountId: string;
  partition: string;
}

/** Flag-level defaults applied to every service account. */
export interface EntryDefaults {
  /** `--annotation-prefix`, e.g. `eks.amazonaws.com`. */
  annotationDomain: string;
  /** `--token-audience`. */
  audience: string;
  /** `--sts-regional-endpoint`. */
  regionalSts: boolean;
  /** `--token-expiration`, already clamped. */
  tokenExpiration: number;
  /** When set, a `role-arn` annotation without `arn:` is a role name in this account. */
  composeRoleArn?: ComposeRoleArn;
}

// Upstream's check; a mismatch is only logged, the value is still used.
const ROLE_ARN = /^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w\-/.@+=,]+$/;

/**
 * Reads a service account's annotations into an {@link ServiceAccountEntry}.
 *
 * @example
 * entryFromServiceAccount(
 *   { metadata: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/app' } } },
 *   { annotationDomain: 'eks.amazonaws.com', audience: 'sts.amazonaws.com', regionalSts: false, tokenExpiration: 86400 },
 * ); // { roleArn: 'arn:aws:iam::111122223333:role/app', audience: 'sts.amazonaws.com', … }
 */
export function entryFromServiceAccount(
  sa: ServiceAccountLike,
  defaults: EntryDefaults,
  logger?: Logger,
): ServiceAccountEntry {
  const annotations = sa.metadata?.annotations ?? {};
  const key = (suffix: string) => `${defaults.annotationDomain}/${suffix}`;
  const entry: ServiceAccountEntry = {
    roleArn: '',
    audience: defaults.audience,
    useRegionalSts: defaults.regionalSts,
    tokenExpiration: defaults.tokenExpiration,
  };
  const ref = `${sa.metadata?.namespace ?? ''}/${sa.metadata?.name ?? ''}`;

  let arn = annotations[key(Annotation.roleArn)];
  if (arn !== undefined) {
    if (!arn.includes('arn:') && defaults.composeRoleArn) {
      const { partition, accountId } = defaults.composeRoleArn;
      arn = `arn:${partition}:iam::${accountId}:role/${arn}`;
    }
    if (!ROLE_ARN.test(arn))
      logger?.warn({ serviceAccount: ref, roleArn: arn }, 'role ARN is invalid');
    entry.roleArn = arn;
  }

  const audience = annotations[key(Annotation.audience)];
  if (audience !== undefined) entry.audience = audience;

  const regional = annotations[key(Annotation.stsRegionalEndpoints)];
  if (regional !== undefined) {
    const parsed = parseGoBool(regional);
    if (parsed === undefined) {
      logger?.debug(
        { serviceAccount: ref, value: regional },
        'ignoring invalid sts-regional-endpoints annotation',
      );
    } else {
      entry.useRegionalSts = parsed;
    }
  }

  const expiration = annotations[key(Annotation.tokenExpiration)];
  if (expiration !== undefined) {
    const parsed = parseTokenExpiration(expiration);
    if (parsed === undefined) {
      logger?.debug(
        { serviceAccount: ref, value: expiration },
        'ignoring invalid token-expiration annotation',
      );
    } else {
      entry.tokenExpiration = parsed;
    }
  }
  return entry;
}
