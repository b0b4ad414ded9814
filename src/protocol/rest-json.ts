/**
 * REST-JSON errors (EKS, EKS Auth, Latchkey's own API): the `x-amzn-ErrorType` header and a
 * `{ "__type", "message" }` body, as the AWS SDKs read them.
 */
import type { AwsError } from '../errors/index.js';

/** Headers and body of a REST-JSON error response. */
export function renderJsonError(
  err: AwsError,
  requestId: string,
): { status: number; headers: Record<string, string>; body: string } {
  return {
    status: err.status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': err.code,
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: err.code, message: err.message }),
  };
}
