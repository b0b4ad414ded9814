import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { openSecret, sealSecret } from '../secrets/index.js';
import { nowIso, type Database } from '../store/index.js';

/** Signing algorithms a Latchkey issuer can use (asymmetric only, as STS requires). */
export type IssuerAlgorithm = 'RS256' | 'ES256';

/** AWS fails to find a `kid` in a JWKS of more than 100 keys, so we never publish more. */
export const MAX_PUBLISHED_KEYS = 100;

/**
 * How long a rotated-out key stays published: the longest projected token (24 h) plus STS's
 * five minutes of clock skew, so every token it signed still verifies until it expires.
 */
export const DEFAULT_OVERLAP_SECONDS = 86_400 + 300;

const CACHE_TTL_MS = 5_000;

/** A key that signs an issuer's tokens. */
export interface IssuerSigningKey {
  kid: string;
  alg: IssuerAlgorithm;
  privateKey: CryptoKey;
}

/** One key of an issuer, as `latchkey keys list` shows it (never the private part). */
export interface IssuerKeyInfo {
  kid: string;
  alg: IssuerAlgorithm;
  createdAt: Date;
  /** Undefined for the key that signs; else when it leaves the JWKS. */
  retireAfter: Date | undefined;
  /** True for the key that signs new tokens. */
  signing: boolean;
}

interface LoadedKeys {
  signing: IssuerSigningKey | undefined;
  published: JWK[];
  loadedAt: number;
}

/**
 * The signing keys of Latchkey's own OIDC issuers. Private keys are stored sealed under the
 * master key; public keys are published in each issuer's JWKS. Rotation keeps the previous
 * keys published for an overlap window.
 */
export class IssuerKeys {
  readonly #cache = new Map<string, LoadedKeys>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly masterKey: Buffer,
    private readonly overlapSeconds = DEFAULT_OVERLAP_SECONDS,
  ) {}

  /**
   * Makes a new signing key for an issuer and retires the current ones after the overlap
   * window; the oldest keys beyond {@link MAX_PUBLISHED_KEYS} are retired at once.
   */
  async rotate(issuerId: string, alg: IssuerAlgorithm = 'RS256'): Promise<{ kid: string }> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), alg, use: 'sig' };
    const kid = await calculateJwkThumbprint(publicJwk);
    publicJwk.kid = kid;
    const privateJwk = JSON.stringify({ ...(await exportJWK(privateKey)), alg, kid });
    const now = new Date();
    const retireAfter = new Date(now.getTime() + this.overlapSeconds * 1000).toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('oidc_signing_keys')
        .set({ retire_after: retireAfter })
        .where('issuer_id', '=', issuerId)
        .where('retire_after', 'is', null)
        .execute();
      await trx
        .insertInto('oidc_signing_keys')
        .values({
          kid,
          issuer_id: issuerId,
          alg,
          private_jwk_sealed: sealSecret(this.masterKey, privateJwk, kid),
          public_jwk: JSON.stringify(publicJwk),
          created_at: now.toISOString(),
          retire_after: null,
        })
        .execute();
      const live = await trx
        .selectFrom('oidc_signing_keys')
        .select('kid')
        .where('issuer_id', '=', issuerId)
        .where((eb) => eb.or([eb('retire_after', 'is', null), eb('retire_after', '>', nowIso())]))
        .orderBy('created_at', 'desc')
        .execute();
      const excess = live.slice(MAX_PUBLISHED_KEYS).map((r) => r.kid);
      if (excess.length > 0) {
        await trx
          .updateTable('oidc_signing_keys')
          .set({ retire_after: now.toISOString() })
          .where('kid', 'in', excess)
          .execute();
      }
    });
    this.#cache.delete(issuerId);
    return { kid };
  }

  /**
   * The key that signs new tokens of an issuer. Throws `InvalidRequestException` when the
   * issuer has none (an external cluster's issuer: its tokens come from the cluster).
   */
  async signingKey(issuerId: string): Promise<IssuerSigningKey> {
    const keys = await this.#load(issuerId);
    if (keys.signing === undefined) {
      throw new AwsError(
        'InvalidRequestException',
        'Latchkey holds no signing key for this issuer: the cluster is external and its own issuer signs its tokens.',
      );
    }
    return keys.signing;
  }

  /**
   * The public keys of an issuer's JWKS, newest first. Cached for 5 s; `fresh` reads the store
   * (a key another replica has just made).
   */
  async publishedKeys(issuerId: string, options: { fresh?: boolean } = {}): Promise<JWK[]> {
    if (options.fresh === true) this.#cache.delete(issuerId);
    return (await this.#load(issuerId)).published;
  }

  /** Every key of an issuer still published (and the one signing), newest first. */
  async describeKeys(issuerId: string): Promise<IssuerKeyInfo[]> {
    const now = new Date().toISOString();
    const rows = await this.db
      .selectFrom('oidc_signing_keys')
      .select(['kid', 'alg', 'created_at', 'retire_after'])
      .where('issuer_id', '=', issuerId)
      .where((eb) => eb.or([eb('retire_after', 'is', null), eb('retire_after', '>', now)]))
      .orderBy('created_at', 'desc')
      .limit(MAX_PUBLISHED_KEYS)
      .execute();
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      createdAt: new Date(r.created_at),
      retireAfter: r.retire_after === null ? undefined : new Date(r.retire_after),
      signing: r.retire_after === null,
    }));
  }

  /** Deletes every key of an issuer (when its cluster is deleted). */
  async deleteIssuer(issuerId: string): Promise<void> {
    await this.db.deleteFrom('oidc_signing_keys').where('issuer_id', '=', issuerId).execute();
    this.#cache.delete(issuerId);
  }

  async #load(issuerId: string): Promise<LoadedKeys> {
    const now = Date.now();
    const cached = this.#cache.get(issuerId);
    if (cached !== undefined && now - cached.loadedAt < CACHE_TTL_MS) return cached;
    const rows = await this.db
      .selectFrom('oidc_signing_keys')
      .selectAll()
      .where('issuer_id', '=', issuerId)
      .where((eb) =>
        eb.or([
          eb('retire_after', 'is', null),
          eb('retire_after', '>', new Date(now).toISOString()),
        ]),
      )
      .orderBy('created_at', 'desc')
      .limit(MAX_PUBLISHED_KEYS)
      .execute();
    const current = rows.find((r) => r.retire_after === null);
    let signing: IssuerSigningKey | undefined;
    if (current !== undefined) {
      const jwk = JSON.parse(
        openSecret(this.masterKey, current.private_jwk_sealed, current.kid),
      ) as JWK;
      signing = {
        kid: current.kid,
        alg: current.alg,
        privateKey: (await importJWK(jwk, current.alg)) as CryptoKey,
      };
    }
    const loaded = {
      signing,
      published: rows.map((r) => JSON.parse(r.public_jwk) as JWK),
      loadedAt: now,
    };
    this.#cache.set(issuerId, loaded);
    return loaded;
  }
}
