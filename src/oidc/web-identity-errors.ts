import { AwsError, isAwsError } from '../errors/index.js';

/**
 * The errors web identity verification answers with, with the messages AWS STS uses where they
 * are known (seen in real responses quoted in SDK issues); the others are marked as ours.
 */
export const WebIdentityMessages = {
  /** AWS: a token that is not a 3-part JWS or not signed with a supported algorithm. */
  notAJwt:
    'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
  /** AWS (note the two spaces after the comma, as AWS sends it). */
  keyNotFound:
    "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
  /** AWS. */
  audience: 'Incorrect token audience',
  /** AWS's API reference wording for timestamps. */
  timestamps: 'Timestamps in the token must be formatted as either an integer or a long integer',
  /** The STS model's description of InvalidIdentityToken (AWS's real message is not public). */
  invalidSignature:
    'The web identity token that was passed could not be validated by Amazon Web Services. Get a new identity token from the identity provider and then retry the request.',
  /** The STS model's description of IDPCommunicationError. */
  idpUnreachable:
    "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. This is often a transient error caused by network conditions. Retry the request a limited number of times so that you don't exceed the request rate. If the error persists, the identity provider might be down or not responding.",
} as const;

/** AWS: `No OpenIDConnect provider found in your account for <iss>`. */
export function noProviderError(issuer: string): AwsError {
  return new AwsError(
    'InvalidIdentityToken',
    `No OpenIDConnect provider found in your account for ${issuer}`,
  );
}

/** `InvalidIdentityToken` with the given message. */
export function invalidToken(message: string): AwsError {
  return new AwsError('InvalidIdentityToken', message);
}

/**
 * AWS: `Token expired: current date/time <now> must be before the expiration date/time <exp>`
 * (epoch seconds), as `ExpiredTokenException` 400.
 */
export function expiredError(now: number, exp: number): AwsError {
  return new AwsError(
    'ExpiredTokenException',
    `Token expired: current date/time ${now} must be before the expiration date/time ${exp}`,
  );
}

/** Ours (AWS's wording is not public): `iat` or `nbf` beyond the clock skew in the future. */
export function notYetValidError(claim: 'iat' | 'nbf', now: number, value: number): AwsError {
  const what = claim === 'iat' ? 'issue' : 'not-before';
  return new AwsError(
    'InvalidIdentityToken',
    `Token not yet valid: current date/time ${now} must not be before the ${what} date/time ${value}`,
  );
}

/** `IDPCommunicationError` 400; `detail` is kept as the error's cause for logs, not shown. */
export function idpUnreachableError(detail: string): AwsError {
  const err = new AwsError('IDPCommunicationError', WebIdentityMessages.idpUnreachable);
  err.cause = detail;
  return err;
}

/** `InvalidIdentityToken` "Couldn't retrieve verification key…"; `detail` kept as the cause. */
export function keyNotFoundError(detail?: string): AwsError {
  const err = new AwsError('InvalidIdentityToken', WebIdentityMessages.keyNotFound);
  if (detail !== undefined) err.cause = detail;
  return err;
}

/**
 * Maps a verification error to EKS Auth's codes (`AssumeRoleForPodIdentity`): token problems are
 * `InvalidTokenException` 400, expiry stays `ExpiredTokenException` 400, an unreachable issuer
 * is `ServiceUnavailableException` 503; anything else passes through unchanged.
 *
 * @example
 * try { await verifyWebIdentityToken(token, opts); }
 * catch (err) { throw toEksAuthError(err); }
 */
export function toEksAuthError(err: unknown): unknown {
  if (isAwsError(err, 'InvalidIdentityToken')) {
    const mapped = new AwsError('InvalidTokenException', err.message);
    mapped.cause = err.cause;
    return mapped;
  }
  if (isAwsError(err, 'IDPCommunicationError')) {
    // An external cluster's issuer could not be reached: EKS Auth's retryable 503.
    const mapped = new AwsError(
      'ServiceUnavailableException',
      "The cluster's OIDC issuer could not be reached to verify the token. Try again later.",
    );
    mapped.cause = err.cause;
    return mapped;
  }
  return err;
}
