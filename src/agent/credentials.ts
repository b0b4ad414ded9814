/**
 * Pod credentials as EKS Auth returns them, and the body the SDKs' container-credentials
 * providers read (`pkg/credentials/model.go` upstream).
 */

/** What `AssumeRoleForPodIdentity` gave for one token. */
export interface PodCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Expiry in ms since the epoch. */
  expiresAtMs: number;
  /** The account of the assumed role (from `assumedRoleUser.arn`). */
  accountId: string;
  /** `assumedRoleUser.arn`. */
  assumedRoleArn: string;
  /** `podIdentityAssociation.associationId`, for logs. */
  associationId: string;
}

/**
 * The JSON the SDKs expect: `AccessKeyId`, `SecretAccessKey`, `Token`, `AccountId` (left out when
 * empty, as Go's `omitempty`) and `Expiration` in Go's RFC 3339 with nanoseconds form (UTC,
 * fraction only when non-zero, trailing zeros trimmed: `2024-05-01T12:00:00Z`). HTML-sensitive
 * characters are escaped as Go's `json.Marshal` does.
 *
 * @example
 * ```ts
 * res.end(credentialsBody(creds)); // {"AccessKeyId":"ASIA…",…,"Expiration":"2024-05-01T12:00:00Z"}
 * ```
 */
export function credentialsBody(creds: PodCredentials): Buffer {
  const body: Record<string, string> = {
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    Token: creds.sessionToken,
  };
  if (creds.accountId !== '') body.AccountId = creds.accountId;
  body.Expiration = formatGoRfc3339Nano(creds.expiresAtMs);
  for (const key of ['AccessKeyId', 'SecretAccessKey', 'Token']) {
    if (body[key] === '') delete body[key];
  }
  return Buffer.from(escapeLikeGo(JSON.stringify(body)), 'utf8');
}

/** `time.Time.Format(time.RFC3339Nano)` of a UTC instant given in ms. */
export function formatGoRfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const dot = iso.lastIndexOf('.');
  const fraction = iso.slice(dot + 1, -1).replace(/0+$/, '');
  return fraction === '' ? `${iso.slice(0, dot)}Z` : `${iso.slice(0, dot)}.${fraction}Z`;
}

function escapeLikeGo(json: string): string {
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
