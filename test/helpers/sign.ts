import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** A request signed by the SDK's own signer, ready to send with fetch. */
export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** Signs a Query-protocol POST the way the AWS SDKs do. */
export async function signQuery(options: {
  endpoint: string;
  service: 'iam' | 'sts';
  body: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  signingDate?: Date;
  region?: string;
}): Promise<SignedRequest> {
  const url = new URL(options.endpoint);
  const signer = new SignatureV4({
    service: options.service,
    region: options.region ?? 'us-east-1',
    sha256: Sha256,
    credentials: options.credentials,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      },
      body: options.body,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return { url: url.toString(), method: 'POST', headers: signed.headers, body: options.body };
}

/** Presigns a Query GET (all parameters in the URL). */
export async function presignQuery(options: {
  endpoint: string;
  service: 'iam' | 'sts';
  params: Record<string, string>;
  credentials: { accessKeyId: string; secretAccessKey: string };
  expiresIn: number;
  signingDate?: Date;
}): Promise<string> {
  const url = new URL(options.endpoint);
  const signer = new SignatureV4({
    service: options.service,
    region: 'us-east-1',
    sha256: Sha256,
    credentials: options.credentials,
  });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: options.params,
      headers: { host: url.host },
    },
    {
      expiresIn: options.expiresIn,
      ...(options.signingDate ? { signingDate: options.signingDate } : {}),
    },
  );
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) q.set(k, String(v));
  return `${url.origin}/?${q.toString().replace(/\+/g, '%20')}`;
}

/** Sends a signed request and returns status, error code and message from the XML body. */
export async function send(
  req: SignedRequest,
): Promise<{ status: number; code?: string; message?: string; body: string }> {
  const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
  return parseAnswer(res);
}

/** Status and Query-protocol error fields of a response. */
export async function parseAnswer(
  res: Response,
): Promise<{ status: number; code?: string; message?: string; body: string }> {
  const body = await res.text();
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return { status: res.status, body, ...(code ? { code } : {}), ...(message ? { message } : {}) };
}
