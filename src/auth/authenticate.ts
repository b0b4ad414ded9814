import { AwsError } from '../errors/index.js';
import {
  verifySignatureV4,
  type ParsedSignatureV4,
  type SigV4Request,
  type VerifiedSignatureV4,
} from '../sigv4/index.js';
import type { CredentialResolver, Principal } from './principal.js';

/** How to check a request's signature. */
export interface AuthenticateOptions {
  /** Allowed clock skew: 300 s for IAM and STS, 900 s for S3. */
  maxSkewSeconds: number;
  /** Hex SHA-256 of the body, or a literal payload marker the service allows. */
  payloadHash: string;
  /** S3 signs the path as sent; other services double-encode it. */
  uriEscapePath?: boolean;
  now?: number;
}

/** A request whose signature was verified. */
export interface AuthenticatedRequest {
  principal: Principal;
  signature: ParsedSignatureV4;
  verified: VerifiedSignatureV4;
}

/**
 * Authenticates a SigV4-signed request whose signature was parsed (by `parseSignatureV4`):
 * resolves the access key and verifies the signature with its secret.
 */
export async function authenticateRequest(
  req: SigV4Request,
  signature: ParsedSignatureV4,
  resolver: CredentialResolver,
  options: AuthenticateOptions,
): Promise<AuthenticatedRequest> {
  const credential = await resolver.resolve(signature.accessKeyId, signature.securityToken);
  if (credential === null) {
    throw new AwsError(
      'InvalidClientTokenId',
      'The security token included in the request is invalid.',
    );
  }
  const verified = verifySignatureV4(req, signature, credential.secretAccessKey, {
    maxSkewSeconds: options.maxSkewSeconds,
    payloadHash: options.payloadHash,
    ...(options.uriEscapePath === undefined ? {} : { uriEscapePath: options.uriEscapePath }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return { principal: credential.principal, signature, verified };
}
