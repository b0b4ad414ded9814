/**
 * AWS Signature Version 4 request verification (the server side): `Authorization` header and
 * presigned-URL forms, the time window, a cache of signing keys, and S3 aws-chunked payloads.
 * See docs/sigv4.md.
 *
 * A request goes through {@link parseSignatureV4} (no secret needed: say who signed it), then,
 * once the caller has looked the access key up, {@link verifySignatureV4}; an aws-chunked body
 * then goes through {@link createChunkedPayloadDecoder}.
 */
export type {
  ParsedSignatureV4,
  SigV4Request,
  VerifiedSignatureV4,
  VerifyOptions,
} from './types.js';
export { parseSignatureV4 } from './parse.js';
export { sigV4RequestOf } from './node-request.js';
export { verifySignatureV4 } from './verify.js';
export {
  ChunkedPayloadDecoder,
  createChunkedPayloadDecoder,
  type ChunkedPayloadOptions,
} from './chunked.js';
export { SigV4Error, type SigV4ErrorDetails, type SigV4FailureReason } from './errors.js';
