/**
 * S3's side of SigV4: who signed the request (or nobody: anonymous), and how its payload is
 * framed and covered. S3 allows 15 minutes of skew, signs the path as sent, and takes the
 * payload hash from `x-amz-content-sha256`.
 */
import type { IncomingMessage } from 'node:http';
import type { CredentialResolver, Principal } from '../auth/index.js';
import {
  parseSignatureV4,
  sigV4RequestOf,
  SigV4Error,
  verifySignatureV4,
  type ParsedSignatureV4,
  type VerifiedSignatureV4,
} from '../sigv4/index.js';
import type { PayloadMode } from './body.js';
import { S3Error, s3ErrorFromSigV4, toS3Error } from './errors.js';

/** S3 accepts requests signed up to 15 minutes away from its clock. */
export const S3_MAX_SKEW_SECONDS = 900;

const MARKERS = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** Who made a request. */
export type S3Caller =
  | { kind: 'anonymous' }
  | {
      kind: 'signed';
      principal: Principal;
      signature: ParsedSignatureV4;
      verified: VerifiedSignatureV4;
    };

/** An authenticated request. */
export interface S3Authentication {
  caller: S3Caller;
  payload: PayloadMode;
}

/**
 * Authenticates an S3 request: parses its signature (none: anonymous), resolves the access
 * key, checks the credential scope (`s3`, this region) and the signature, and works out the
 * payload mode. Throws {@link S3Error} with S3's codes.
 *
 * @example
 * const { caller, payload } = await authenticateS3(req, resolver, 'us-east-1');
 */
export async function authenticateS3(
  req: IncomingMessage,
  resolver: CredentialResolver,
  region: string,
  now?: number,
): Promise<S3Authentication> {
  const sigReq = sigV4RequestOf(req);
  const presigned = /(^|&)X-Amz-(Signature|Credential|Algorithm|SignedHeaders)=/.test(sigReq.query);
  let signature: ParsedSignatureV4 | null;
  try {
    signature = parseSignatureV4(sigReq);
  } catch (err) {
    throw err instanceof SigV4Error ? s3ErrorFromSigV4(err, presigned) : err;
  }
  if (signature === null) return { caller: { kind: 'anonymous' }, payload: anonymousPayload(req) };

  const declared = signature.declaredPayloadHash;
  if (declared === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  if (!MARKERS.has(declared) && !HEX_SHA256.test(declared)) {
    throw new S3Error(
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ' +
        'STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: declared },
    );
  }
  checkScope(signature, region, presigned);

  let credential;
  try {
    credential = await resolver.resolve(signature.accessKeyId, signature.securityToken);
  } catch (err) {
    throw toS3Error(err);
  }
  if (credential === null) {
    throw signature.securityToken !== undefined && signature.accessKeyId.startsWith('ASIA')
      ? new S3Error('InvalidToken', undefined, { 'Token-0': signature.securityToken })
      : new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: signature.accessKeyId });
  }
  let verified: VerifiedSignatureV4;
  try {
    verified = verifySignatureV4(sigReq, signature, credential.secretAccessKey, {
      maxSkewSeconds: S3_MAX_SKEW_SECONDS,
      payloadHash: declared,
      uriEscapePath: false,
      ...(now === undefined ? {} : { now }),
    });
  } catch (err) {
    throw err instanceof SigV4Error ? s3ErrorFromSigV4(err, presigned) : err;
  }
  return {
    caller: { kind: 'signed', principal: credential.principal, signature, verified },
    payload: payloadMode(req, declared, verified),
  };
}

/** S3 answers a credential for another service or region with its own wording. */
function checkScope(signature: ParsedSignatureV4, region: string, presigned: boolean): void {
  const lead = presigned
    ? 'Error parsing the X-Amz-Credential parameter;'
    : 'The authorization header is malformed;';
  const code = presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed';
  if (signature.region !== region) {
    throw new S3Error(
      code,
      `${lead} the region '${signature.region}' is wrong; expecting '${region}'`,
      {
        Region: region,
      },
    );
  }
  if (signature.service !== 's3') {
    throw new S3Error(
      code,
      `${lead} incorrect service '${signature.service}'. This endpoint belongs to 's3'.`,
    );
  }
}

function payloadMode(
  req: IncomingMessage,
  declared: string,
  verified: VerifiedSignatureV4,
): PayloadMode {
  if (declared === 'UNSIGNED-PAYLOAD') return { kind: 'raw' };
  if (HEX_SHA256.test(declared)) return { kind: 'sha256', expected: declared };
  return { kind: 'chunked', verified, decodedLength: decodedLength(req) };
}

/** `x-amz-decoded-content-length`, required with aws-chunked bodies. */
function decodedLength(req: IncomingMessage): number {
  const raw = req.headers['x-amz-decoded-content-length'];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (value === undefined) throw new S3Error('MissingContentLength');
  if (!/^\d+$/.test(value)) {
    throw new S3Error('InvalidArgument', 'Invalid x-amz-decoded-content-length', {
      ArgumentName: 'x-amz-decoded-content-length',
      ArgumentValue: value,
    });
  }
  return Number(value);
}

/** An anonymous request's body is raw, unless it is framed with an unsigned trailer. */
function anonymousPayload(req: IncomingMessage): PayloadMode {
  if (req.headers['x-amz-content-sha256'] !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') {
    return { kind: 'raw' };
  }
  const unsigned: VerifiedSignatureV4 = {
    signingKey: Buffer.alloc(0),
    seedSignature: '',
    scope: '',
    amzDate: '',
    payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  };
  return { kind: 'chunked', verified: unsigned, decodedLength: decodedLength(req) };
}
