/** Where a policy document is used; each kind has its own grammar rules and size limit. */
export type PolicyDocumentKind =
  'trust' | 'role-inline' | 'user-inline' | 'managed' | 'boundary' | 'session' | 'resource';

/**
 * Checks a policy document before it is stored: throws AwsError MalformedPolicyDocument (or
 * LimitExceeded for size) with AWS's message. The policy engine provides the implementation.
 */
export type PolicyValidator = (document: string, kind: PolicyDocumentKind) => void;

/**
 * IAM returns policy documents URL-encoded (RFC 3986) inside its XML, as AWS does; the AWS CLI
 * decodes them, the SDKs leave that to the caller.
 */
export function encodePolicyDocument(document: string): string {
  return encodeURIComponent(document).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
