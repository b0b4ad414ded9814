/**
 * The webhook's TLS: a certificate and key from files, reloaded when the files change, or a
 * generated self-signed CA and serving certificate whose CA bundle goes into the
 * MutatingWebhookConfiguration's `caBundle` (the API server only calls webhooks over HTTPS).
 */
import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { errorMessage, WebhookError } from './errors.js';
import { watchFiles, type FileWatch } from './file-watch.js';

/** A PEM certificate (chain) and its PEM private key. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** A generated serving certificate and the CA that signed it. */
export interface GeneratedCertificate extends TlsMaterial {
  /** The CA certificate, PEM. */
  caCert: string;
  /** The CA certificate as the MutatingWebhookConfiguration wants it: base64 of the PEM. */
  caBundle: string;
  notAfter: Date;
}

/** Options of {@link generateSelfSignedCertificate}. */
export interface GenerateCertificateOptions {
  /** DNS names the API server may use, e.g. from {@link webhookDnsNames}. */
  dnsNames: readonly string[];
  /** IP addresses to include (default 127.0.0.1). */
  ipAddresses?: readonly string[];
  /** Validity in days (default 365). */
  validityDays?: number;
}

type X509 = typeof import('@peculiar/x509');

let x509Module: Promise<X509> | undefined;

// Loaded on first use: it is only needed to generate a certificate, and it needs the shim first.
function loadX509(): Promise<X509> {
  x509Module ??= import('./reflect-metadata-shim.js').then(() => import('@peculiar/x509'));
  return x509Module;
}

const crypto = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/**
 * The names a Service `service` in `namespace` is reached by from the API server, as
 * upstream's in-cluster certificate request lists them.
 *
 * @example
 * webhookDnsNames('latchkey-webhook', 'latchkey');
 * // ['latchkey-webhook', 'latchkey-webhook.latchkey', 'latchkey-webhook.latchkey.svc', 'latchkey-webhook.latchkey.svc.cluster.local']
 */
export function webhookDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Generates a CA (EC P-256) and a serving certificate it signs for `dnsNames`.
 *
 * @example
 * const tls = await generateSelfSignedCertificate({ dnsNames: webhookDnsNames('latchkey-webhook', 'latchkey') });
 * console.log(`caBundle: ${tls.caBundle}`);
 */
export async function generateSelfSignedCertificate(
  options: GenerateCertificateOptions,
): Promise<GeneratedCertificate> {
  const dnsNames = options.dnsNames;
  if (dnsNames.length === 0)
    throw new WebhookError('ERR_WEBHOOK_TLS', 'a certificate needs at least one DNS name');
  const x509 = await loadX509();
  const ips = options.ipAddresses ?? ['127.0.0.1'];
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (options.validityDays ?? 365) * 86_400_000);

  const caKeys = (await crypto.subtle.generateKey(EC_KEY, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=latchkey-webhook-ca',
      keys: caKeys,
      notBefore,
      notAfter,
      signingAlgorithm: EC_SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const keys = (await crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${dnsNames.find((n) => n.endsWith('.svc')) ?? dnsNames[0]}`,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: EC_SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
          ...ips.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const caCert = ca.toString('pem') + '\n';
  return {
    cert: leaf.toString('pem') + '\n',
    key: await keyPem(keys.privateKey),
    caCert,
    caBundle: Buffer.from(caCert).toString('base64'),
    notAfter,
  };
}

/** Throws `ERR_WEBHOOK_TLS` unless `material` makes a usable TLS context. */
export function checkTlsMaterial(material: TlsMaterial, where: string): void {
  try {
    createSecureContext({ cert: material.cert, key: material.key });
  } catch (err) {
    throw new WebhookError('ERR_WEBHOOK_TLS', `${where}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Reads and checks a certificate and key.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_TLS` when a file is unreadable or the pair is unusable.
 */
export async function readTlsFiles(certFile: string, keyFile: string): Promise<TlsMaterial> {
  let material: TlsMaterial;
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    material = { cert, key };
  } catch (err) {
    throw new WebhookError('ERR_WEBHOOK_TLS', `cannot read TLS files: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  checkTlsMaterial(material, `${certFile} / ${keyFile}`);
  return material;
}

/**
 * Calls `onReload` with the new pair whenever the certificate or key file changes and the pair
 * is usable; a half-written or mismatched pair is logged and the current one kept.
 */
export function watchTlsFiles(
  certFile: string,
  keyFile: string,
  onReload: (material: TlsMaterial) => void,
  logger: Logger,
  options: { debounceMs?: number } = {},
): FileWatch {
  return watchFiles(
    [certFile, keyFile],
    async () => {
      try {
        onReload(await readTlsFiles(certFile, keyFile));
        logger.info({ certFile, keyFile }, 'TLS certificate reloaded');
      } catch (err) {
        logger.error(
          { certFile, keyFile, err: errorMessage(err) },
          'TLS certificate not reloaded; keeping the current one',
        );
      }
    },
    {
      debounceMs: options.debounceMs ?? 200,
      onError: (err) => logger.warn({ err: errorMessage(err) }, 'file watch error'),
    },
  );
}
