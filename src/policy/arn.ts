/**
 * Amazon Resource Names: splitting into segments, and the resource-format checks IAM applies to
 * `Resource` / `NotResource` values.
 *
 * An ARN is `arn:partition:service:region:account:resource`; the resource part is everything
 * after the fifth colon and may itself contain colons and slashes.
 */
import { MESSAGES } from './errors.js';

/** The segments of an ARN. */
export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits `arn` at its first five colons; undefined when it has fewer than six segments. */
export function splitArn(arn: string): ArnParts | undefined {
  const c1 = arn.indexOf(':');
  if (c1 < 0) return undefined;
  const c2 = arn.indexOf(':', c1 + 1);
  if (c2 < 0) return undefined;
  const c3 = arn.indexOf(':', c2 + 1);
  if (c3 < 0) return undefined;
  const c4 = arn.indexOf(':', c3 + 1);
  if (c4 < 0) return undefined;
  const c5 = arn.indexOf(':', c4 + 1);
  if (c5 < 0) return undefined;
  return {
    partition: arn.slice(c1 + 1, c2),
    service: arn.slice(c2 + 1, c3),
    region: arn.slice(c3 + 1, c4),
    account: arn.slice(c4 + 1, c5),
    resource: arn.slice(c5 + 1),
  };
}

/** The AWS partitions IAM accepts in policy ARNs. */
export const PARTITIONS: ReadonlySet<string> = new Set([
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
]);

/** The resource types an IAM ARN may start with (IAM's own list, in its order). */
export const IAM_RESOURCE_PREFIXES = [
  'user/',
  'federated-user/',
  'role/',
  'group/',
  'instance-profile/',
  'mfa/',
  'server-certificate/',
  'policy/',
  'sms-mfa/',
  'saml-provider/',
  'oidc-provider/',
  'report/',
  'access-report/',
] as const;

/**
 * IAM's "legacy parser" check of a resource string: an ARN with an empty service, or a `::`
 * in an ARN too short to hold five colons, fails with "The policy failed legacy parsing".
 */
export function failsLegacyResourceParse(resource: string): boolean {
  if (resource === '*') return false;
  const colons = resource.split(':').length - 1;
  if (colons < 5 && resource.includes('::')) return true;
  const service = resource.split(':')[2];
  return service === '';
}

/**
 * The message IAM answers for a malformed `Resource` value, or undefined when it is acceptable.
 * Checks, in IAM's order: ARN shape, partition, service, region rules for IAM and S3, IAM paths.
 */
export function resourceFormatError(resource: string): string | undefined {
  if (resource === '*') return undefined;
  const first = resource.indexOf(':');
  if (first < 0) return MESSAGES.resourceNotArn(resource);
  const afterPrefix = resource.slice(first + 1);
  const second = afterPrefix.indexOf(':');
  const partition = second < 0 ? afterPrefix : afterPrefix.slice(0, second);
  if (partition !== '*' && !PARTITIONS.has(partition)) {
    // IAM echoes the resource padded to six segments with `*`.
    const rest = second < 0 ? [] : afterPrefix.slice(second + 1).split(':');
    const seg = (i: number): string => {
      if (i === 3) return rest.length > 3 ? rest.slice(3).join(':') : '*';
      const v = rest[i];
      if (v === undefined) return '*';
      return v === '' && rest.length === 1 ? '*' : v;
    };
    return MESSAGES.resourcePartition(
      partition,
      `arn:${partition}:${seg(0)}:${seg(1)}:${seg(2)}:${seg(3)}`,
    );
  }
  if (second < 0) return MESSAGES.resourceVendor;
  const parts = afterPrefix.slice(second + 1).split(':');
  const service = parts[0] ?? '';
  if (service.includes('*') || service.includes('?')) return MESSAGES.resourceVendor;
  const region = parts[1];
  if (service === 'iam' && region !== undefined && region !== '') {
    return MESSAGES.iamRegion(resource);
  }
  if (service === 's3' && region !== undefined && region !== '') {
    return MESSAGES.s3Region(resource);
  }
  if (service === 'iam' && parts.length >= 4) {
    const path = parts.slice(3).join(':');
    if (path !== '*' && !IAM_RESOURCE_PREFIXES.some((p) => path.startsWith(p))) {
      return MESSAGES.iamPath(IAM_RESOURCE_PREFIXES);
    }
  }
  return undefined;
}
