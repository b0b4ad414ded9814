import type { JWK } from 'jose';

/** Path of an issuer's JWKS below its issuer URL (EKS serves `/keys`). */
export const JWKS_PATH = '/keys';

/** The OpenID Connect discovery document of an issuer, in the form kube-apiserver serves it. */
export function discoveryDocument(
  issuerUrl: string,
  algorithms: string[],
): Record<string, unknown> {
  return {
    issuer: issuerUrl,
    jwks_uri: `${issuerUrl}${JWKS_PATH}`,
    authorization_endpoint: 'urn:kubernetes:programmatic_authorization',
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    claims_supported: ['sub', 'iss'],
    id_token_signing_alg_values_supported: algorithms,
  };
}

/** A JSON Web Key Set of public keys. */
export function jwksDocument(keys: JWK[]): { keys: JWK[] } {
  return { keys };
}
