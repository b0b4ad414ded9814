import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Profile } from '../profiles/index.js';

/** Signs and sends a request the way the AWS SDKs do. */
async function signedFetch(
  profile: Profile,
  service: string,
  method: string,
  path: string,
  contentType: string,
  payload: string,
): Promise<Response> {
  const url = new URL(path, profile.endpointUrl);
  const signer = new SignatureV4({
    service,
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
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, 'content-type': contentType },
    body: payload,
  });
  return fetch(url.toString(), {
    method,
    headers: signed.headers,
    ...(payload === '' ? {} : { body: payload }),
  });
}

/** Sends a signed Query-protocol (form-encoded) POST and returns the status and XML text. */
export async function signedFormRequest(
  profile: Profile,
  service: string,
  form: string,
): Promise<{ status: number; text: string }> {
  const response = await signedFetch(
    profile,
    service,
    'POST',
    '/',
    'application/x-www-form-urlencoded; charset=utf-8',
    form,
  );
  return { status: response.status, text: await response.text() };
}

/** Calls a REST-JSON operation (EKS, Latchkey's API), signed with SigV4 by a profile's key. */
export async function signedJsonRequest(
  profile: Profile,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  service = 'latchkey',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const response = await signedFetch(profile, service, method, path, 'application/json', payload);
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = { message: text };
  }
  return { status: response.status, json };
}
