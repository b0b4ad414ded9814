import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Profile } from '../profiles/index.js';

/**
 * Calls one of Latchkey's own JSON endpoints, signed with SigV4 by a profile's key, the way
 * the AWS SDKs sign their calls.
 */
export async function signedJsonRequest(
  profile: Profile,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = new URL(path, profile.endpointUrl);
  const payload = body === undefined ? '' : JSON.stringify(body);
  const signer = new SignatureV4({
    service: 'latchkey',
    region: profile.region,
    sha256: Sha256,
    credentials: { accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey },
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body: payload,
  });
  const response = await fetch(url, {
    method,
    headers: signed.headers,
    ...(payload === '' ? {} : { body: payload }),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = { message: text };
  }
  return { status: response.status, json };
}
