/** S3's bucket naming rules (general purpose buckets). */

const PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * True when `name` is a valid bucket name: 3–63 characters of lower-case letters, digits, dots
 * and hyphens, starting and ending with a letter or digit, no two adjacent dots, not an IP
 * address, and none of AWS's reserved prefixes and suffixes.
 *
 * @example
 * isValidBucketName('my-bucket'); // true
 * isValidBucketName('My_Bucket'); // false
 */
export function isValidBucketName(name: string): boolean {
  if (!PATTERN.test(name) || name.includes('..') || IP_ADDRESS.test(name)) return false;
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) return false;
  return !RESERVED_SUFFIXES.some((s) => name.endsWith(s));
}

/** The bucket's ARN. */
export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

/** An object's ARN (the key as stored, not encoded). */
export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}
