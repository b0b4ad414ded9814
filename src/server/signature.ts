import { toAwsError, type AwsError } from '../errors/index.js';
import { parseSignatureV4, type ParsedSignatureV4, type SigV4Request } from '../sigv4/index.js';

/** A request's signature parsed once at the edge: none, well-formed, or malformed. */
export interface ParsedSignature {
  /** Null when the request carries no signature (or a malformed one, see `error`). */
  signature: ParsedSignatureV4 | null;
  /** Why the signature is malformed, to be answered in the target protocol's shape. */
  error?: AwsError;
}

/** Parses a request's SigV4 signature without throwing. */
export function parseSignature(req: SigV4Request): ParsedSignature {
  try {
    return { signature: parseSignatureV4(req) };
  } catch (err) {
    return { signature: null, error: toAwsError(err) };
  }
}
