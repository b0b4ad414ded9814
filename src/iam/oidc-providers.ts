import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';

/** IAM's quotas. */
export const MAX_OIDC_PROVIDERS = 100;
export const MAX_CLIENT_IDS = 100;
export const MAX_THUMBPRINTS = 5;

/** An IAM OIDC identity provider. */
export interface OidcProvider {
  accountId: string;
  arn: string;
  /** The issuer URL with its scheme, as tokens carry it in `iss`. */
  issuerUrl: string;
  /** The URL without scheme, as in the ARN and condition keys (`host/path:sub`). */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Record<string, string>;
  createDate: Date;
}

/** The ARN of a provider whose URL (without scheme) is `url`. */
export function oidcProviderArn(accountId: string, url: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${url}`;
}

/** The account and URL an `oidc-provider` ARN names; NoSuchEntity-style error when malformed. */
export function parseOidcProviderArn(arn: string): { accountId: string; url: string } {
  const m = /^arn:aws:iam::(\d{12}):oidc-provider\/(.+)$/.exec(arn);
  if (m?.[1] === undefined || m[2] === undefined) {
    throw new AwsError('InvalidInput', `ARN ${arn} is not valid.`);
  }
  return { accountId: m[1], url: m[2] };
}

/** IAM OIDC identity providers of every account. */
export class OidcProviderDirectory {
  constructor(private readonly db: Kysely<Database>) {}

  /** Registers a provider; EntityAlreadyExists for a URL already registered in the account. */
  async create(
    accountId: string,
    input: {
      scheme: string;
      url: string;
      clientIds: string[];
      thumbprints: string[];
      tags: Record<string, string>;
    },
  ): Promise<OidcProvider> {
    const row = {
      account_id: accountId,
      url: input.url,
      scheme: input.scheme,
      client_ids: JSON.stringify(input.clientIds),
      thumbprints: JSON.stringify(input.thumbprints),
      tags: JSON.stringify(input.tags),
      created_at: nowIso(),
    };
    await this.db.transaction().execute(async (trx) => {
      const { n } = await trx
        .selectFrom('iam_oidc_providers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      if (Number(n) >= MAX_OIDC_PROVIDERS) {
        throw new AwsError(
          'LimitExceeded',
          `Cannot exceed quota for OpenIdConnectProvidersPerAccount: ${MAX_OIDC_PROVIDERS}`,
        );
      }
      try {
        await trx.insertInto('iam_oidc_providers').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new AwsError(
            'EntityAlreadyExists',
            `Provider with url ${input.scheme}://${input.url} already exists.`,
          );
        }
        throw err;
      }
    });
    return toProvider(row);
  }

  /** The provider an ARN names; NoSuchEntity when there is none. */
  async get(arn: string): Promise<OidcProvider> {
    const { accountId, url } = parseOidcProviderArn(arn);
    const row = await this.db
      .selectFrom('iam_oidc_providers')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('url', '=', url)
      .executeTakeFirst();
    if (row === undefined) throw noSuchProvider(arn);
    return toProvider(row);
  }

  /** The provider of `accountId` whose issuer URL is exactly `issuerUrl`, if any. */
  async findByIssuer(accountId: string, issuerUrl: string): Promise<OidcProvider | undefined> {
    const m = /^(https?):\/\/(.+)$/.exec(issuerUrl);
    if (m?.[2] === undefined) return undefined;
    const row = await this.db
      .selectFrom('iam_oidc_providers')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('url', '=', m[2])
      .where('scheme', '=', m[1] ?? '')
      .executeTakeFirst();
    return row === undefined ? undefined : toProvider(row);
  }

  /** The account's providers in URL order. */
  async list(accountId: string): Promise<OidcProvider[]> {
    const rows = await this.db
      .selectFrom('iam_oidc_providers')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('url')
      .execute();
    return rows.map(toProvider);
  }

  /** Applies `change` to a provider's mutable fields, atomically. */
  async update(
    arn: string,
    change: (p: OidcProvider) => Partial<Pick<OidcProvider, 'clientIds' | 'thumbprints' | 'tags'>>,
  ): Promise<void> {
    const { accountId, url } = parseOidcProviderArn(arn);
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('iam_oidc_providers')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('url', '=', url)
        .executeTakeFirst();
      if (row === undefined) throw noSuchProvider(arn);
      const next = change(toProvider(row));
      await trx
        .updateTable('iam_oidc_providers')
        .set({
          ...(next.clientIds ? { client_ids: JSON.stringify(next.clientIds) } : {}),
          ...(next.thumbprints ? { thumbprints: JSON.stringify(next.thumbprints) } : {}),
          ...(next.tags ? { tags: JSON.stringify(next.tags) } : {}),
        })
        .where('account_id', '=', accountId)
        .where('url', '=', url)
        .execute();
    });
  }

  /** Deletes a provider; NoSuchEntity when there is none. */
  async delete(arn: string): Promise<void> {
    const { accountId, url } = parseOidcProviderArn(arn);
    const result = await this.db
      .deleteFrom('iam_oidc_providers')
      .where('account_id', '=', accountId)
      .where('url', '=', url)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) throw noSuchProvider(arn);
  }
}

function noSuchProvider(arn: string): AwsError {
  return new AwsError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
}

function toProvider(row: Database['iam_oidc_providers']): OidcProvider {
  return {
    accountId: row.account_id,
    arn: oidcProviderArn(row.account_id, row.url),
    issuerUrl: `${row.scheme}://${row.url}`,
    url: row.url,
    clientIds: JSON.parse(row.client_ids) as string[],
    thumbprints: JSON.parse(row.thumbprints) as string[],
    tags: JSON.parse(row.tags) as Record<string, string>,
    createDate: new Date(row.created_at),
  };
}
