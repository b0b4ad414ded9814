/**
 * AWS's messages for malformed policy documents, in one place.
 *
 * The texts are those IAM (and, for resource policies, S3) answer with; see
 * docs/policy-engine.md for where each was observed.
 */
import { AwsError } from '../errors/index.js';

/** IAM's messages (MalformedPolicyDocument) for identity-based policies. */
export const MESSAGES = {
  syntax: 'Syntax errors in policy.',
  version: 'Policy document must be version 2012-10-17 or greater.',
  legacy: 'The policy failed legacy parsing',
  duplicateSid: 'Statement IDs (SID) in a single policy must be unique.',
  noActions: 'Policy statement must contain actions.',
  noResources: 'Policy statement must contain resources.',
  principalNotAllowed: 'Policy document should not specify a principal.',
  vendorMissing: 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
  vendorColons: 'Actions/Condition can contain only one colon.',
  vendorInvalid: (vendor: string) => `Vendor ${vendor} is not valid`,
  resourceNotArn: (resource: string) => `Resource ${resource} must be in ARN format or "*".`,
  resourcePartition: (partition: string, resource: string) =>
    `Partition "${partition}" is not valid for resource "${resource}".`,
  resourceVendor: 'Resource vendor must be fully qualified and cannot contain regexes.',
  iamRegion: (resource: string) => `IAM resource ${resource} cannot contain region information.`,
  s3Region: (resource: string) => `Resource ${resource} can not contain region information.`,
  iamPath: (prefixes: readonly string[]) =>
    `IAM resource path must either be "*" or start with ${prefixes.join(', ')}.`,
  // Resource-based and trust policies.
  missingPrincipal: 'Missing required field Principal',
  invalidPrincipal: 'Invalid principal in policy',
  invalidPrincipalDetail: (type: string, value: string) =>
    `Invalid principal in policy: "${type}":"${value}"`,
  invalidAction: 'Policy has invalid action',
  invalidResource: 'Policy has invalid resource',
  // Trust policies (IAM's AssumeRolePolicyDocument parser has its own wording).
  trustJson: 'This policy contains invalid Json',
  trustResource: 'Has prohibited field Resource',
  trustNotResource: 'AssumeRole policy must not contain resources.',
  trustAction: 'AssumeRole policy may only specify STS AssumeRole actions.',
  trustNotPrincipal: 'AssumeRole policy must not contain NotPrincipal field.',
  trustMissingEffect: 'Missing required field Effect',
  trustMissingAction: 'Missing required field Action',
  trustEmptyStatement: 'Could not parse the policy: Statement is empty!',
  sidNotAlphanumeric:
    'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
} as const;

/** A MalformedPolicyDocument error with `message`. */
export function malformed(message: string): AwsError {
  return new AwsError('MalformedPolicyDocument', message);
}
