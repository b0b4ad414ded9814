/**
 * IAM's OpenID Connect provider operations: Create/Get/List/Delete, client ids, thumbprints
 * and tags.
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { QueryCall, QueryHandler, XmlObject } from '../protocol/index.js';
import {
  MAX_CLIENT_IDS,
  MAX_THUMBPRINTS,
  oidcProviderArn,
  parseOidcProviderArn,
  type OidcProviderDirectory,
} from './oidc-providers.js';
import { mergeTags, readTags, removeTags, tagsXml } from './tags.js';
import { validateParameter } from './validate.js';

/** What the provider operations work on. */
export interface OidcProviderApiDeps {
  providers: OidcProviderDirectory;
  authorizer: Authorizer;
  /** True for issuer URLs this Latchkey serves itself, which may be plain http. */
  isOwnIssuer(url: string): boolean;
}

/** The provider actions, to merge into the IAM service's action table. */
export function oidcProviderActions(deps: OidcProviderApiDeps): Record<string, QueryHandler> {
  const { providers, authorizer } = deps;
  const authorize = (call: QueryCall, action: string, resource: string) =>
    authorizer.authorize(call.principal, { action: `iam:${action}`, resource });

  /** Reads the ARN parameter, checks it belongs to the caller's account, authorizes. */
  const target = async (call: QueryCall, action: string): Promise<string> => {
    const arn = validateParameter(
      'openIDConnectProviderArn',
      call.params.require('OpenIDConnectProviderArn'),
      {
        min: 20,
        max: 2048,
      },
    );
    await authorize(call, action, arn);
    if (parseOidcProviderArn(arn).accountId !== call.principal.accountId) {
      throw new AwsError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
    }
    return arn;
  };

  return {
    async CreateOpenIDConnectProvider(call) {
      const { scheme, url } = parseProviderUrl(call.params.require('Url'), deps.isOwnIssuer);
      const clientIds = readClientIds(call.params.list('ClientIDList'));
      const thumbprints = readThumbprints(call.params.list('ThumbprintList'));
      const tags = readTags(call.params);
      const arn = oidcProviderArn(call.principal.accountId, url);
      await authorize(call, 'CreateOpenIDConnectProvider', arn);
      const created = await providers.create(call.principal.accountId, {
        scheme,
        url,
        clientIds,
        thumbprints,
        tags,
      });
      return { OpenIDConnectProviderArn: created.arn, Tags: tagsXml(created.tags) };
    },

    async GetOpenIDConnectProvider(call) {
      const provider = await providers.get(await target(call, 'GetOpenIDConnectProvider'));
      return {
        Url: provider.url,
        ClientIDList: provider.clientIds,
        ThumbprintList: provider.thumbprints,
        CreateDate: provider.createDate,
        Tags: tagsXml(provider.tags),
      };
    },

    async ListOpenIDConnectProviders(call) {
      await authorize(call, 'ListOpenIDConnectProviders', '*');
      const list = await providers.list(call.principal.accountId);
      return { OpenIDConnectProviderList: list.map((p): XmlObject => ({ Arn: p.arn })) };
    },

    async DeleteOpenIDConnectProvider(call) {
      await providers.delete(await target(call, 'DeleteOpenIDConnectProvider'));
      return undefined;
    },

    async AddClientIDToOpenIDConnectProvider(call) {
      const arn = await target(call, 'AddClientIDToOpenIDConnectProvider');
      const [clientId] = readClientIds([call.params.require('ClientID')]);
      await providers.update(arn, (p) =>
        p.clientIds.includes(clientId ?? '')
          ? {}
          : { clientIds: readClientIds([...p.clientIds, clientId ?? '']) },
      );
      return undefined;
    },

    async RemoveClientIDFromOpenIDConnectProvider(call) {
      const arn = await target(call, 'RemoveClientIDFromOpenIDConnectProvider');
      const clientId = call.params.require('ClientID');
      await providers.update(arn, (p) => ({
        clientIds: p.clientIds.filter((c) => c !== clientId),
      }));
      return undefined;
    },

    async UpdateOpenIDConnectProviderThumbprint(call) {
      const arn = await target(call, 'UpdateOpenIDConnectProviderThumbprint');
      const thumbprints = readThumbprints(call.params.list('ThumbprintList'));
      await providers.update(arn, () => ({ thumbprints }));
      return undefined;
    },

    async TagOpenIDConnectProvider(call) {
      const arn = await target(call, 'TagOpenIDConnectProvider');
      const tags = readTags(call.params);
      await providers.update(arn, (p) => ({ tags: mergeTags(p.tags, tags) }));
      return undefined;
    },

    async UntagOpenIDConnectProvider(call) {
      const arn = await target(call, 'UntagOpenIDConnectProvider');
      const keys = call.params.list('TagKeys');
      await providers.update(arn, (p) => ({ tags: removeTags(p.tags, keys) }));
      return undefined;
    },

    async ListOpenIDConnectProviderTags(call) {
      const provider = await providers.get(await target(call, 'ListOpenIDConnectProviderTags'));
      return { Tags: tagsXml(provider.tags), IsTruncated: false };
    },
  };
}

/**
 * Checks a provider URL as IAM does: `https://`, at most 255 characters, no query or fragment;
 * plain `http://` only for issuers served by this Latchkey.
 */
export function parseProviderUrl(
  value: string,
  isOwnIssuer: (url: string) => boolean,
): { scheme: string; url: string } {
  validateParameter('url', value, { min: 1, max: 255 });
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new AwsError('InvalidInput', `Invalid Url: ${value}`);
  }
  const own = isOwnIssuer(value);
  if (parsed.protocol !== 'https:' && !(own && parsed.protocol === 'http:')) {
    throw new AwsError('InvalidInput', 'The URL must begin with https://');
  }
  if (parsed.search !== '' || parsed.hash !== '' || value.includes('?') || value.includes('#')) {
    throw new AwsError('InvalidInput', 'The URL must not contain a query or fragment.');
  }
  if (parsed.port !== '' && !own) {
    throw new AwsError('InvalidInput', 'The URL must not contain a port number.');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new AwsError('InvalidInput', `Invalid Url: ${value}`);
  }
  return { scheme: parsed.protocol.slice(0, -1), url: value.slice(parsed.protocol.length + 2) };
}

function readClientIds(ids: string[]): string[] {
  if (ids.length > MAX_CLIENT_IDS) {
    throw new AwsError(
      'LimitExceeded',
      `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${MAX_CLIENT_IDS}`,
    );
  }
  for (const id of ids) validateParameter('clientID', id, { min: 1, max: 255 });
  return [...new Set(ids)];
}

function readThumbprints(prints: string[]): string[] {
  if (prints.length > MAX_THUMBPRINTS) {
    throw new AwsError(
      'LimitExceeded',
      `Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: ${MAX_THUMBPRINTS}`,
    );
  }
  for (const t of prints) {
    validateParameter('thumbprintList.member', t, {
      pattern: /^[0-9a-fA-F]{40}$/,
      patternText: '[0-9a-fA-F]{40}',
      min: 40,
      max: 40,
    });
  }
  return prints.map((t) => t.toLowerCase());
}
