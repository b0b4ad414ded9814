/**
 * Service accounts from a YAML file (`--service-accounts FILE.yaml`): ServiceAccount objects
 * (several documents, or a `List`), optionally the `pod-identity-webhook` ConfigMap. For
 * GitOps set-ups and tests without an API server. The file is watched and reloaded; a broken
 * edit is logged and the last good contents stay in force.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import { errorMessage, WebhookError } from '../errors.js';
import { reloadOnChange, type FileWatch } from '../file-watch.js';
import type { ServiceAccountCache } from './cache.js';
import { CONFIG_MAP_NAME, entriesFromConfigMap, type ConfigMapLike } from './config-map.js';
import type { ServiceAccountEntry, ServiceAccountLike } from './entry.js';
import type { ServiceAccountSource } from './source.js';

/** What a service-accounts file holds. */
export interface ServiceAccountsFile {
  serviceAccounts: ServiceAccountLike[];
  /** Entries of the `pod-identity-webhook` ConfigMap, when the file has one. */
  configMapEntries: Map<string, ServiceAccountEntry>;
  /** Where objects of other kinds were skipped, e.g. `sa.yaml document 3 (Deployment)`. */
  skipped: string[];
}

interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: unknown;
  items?: unknown;
  data?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toServiceAccount(obj: KubeObject, where: string): ServiceAccountLike {
  const metadata = obj.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where}: a ServiceAccount needs metadata.name`);
  }
  const annotations = metadata.annotations ?? {};
  if (!isObject(annotations) || Object.values(annotations).some((v) => typeof v !== 'string')) {
    throw new WebhookError(
      'ERR_WEBHOOK_SOURCE',
      `${where}: metadata.annotations must map strings to strings`,
    );
  }
  return {
    metadata: {
      name: metadata.name,
      // Like kubectl apply without -n: no namespace means "default".
      namespace:
        typeof metadata.namespace === 'string' && metadata.namespace !== ''
          ? metadata.namespace
          : 'default',
      annotations: annotations as Record<string, string>,
    },
  };
}

/**
 * Parses the text of a service-accounts file.
 *
 * @throws {WebhookError} `ERR_WEBHOOK_SOURCE` on YAML errors or malformed objects.
 * @example
 * parseServiceAccountsYaml('kind: ServiceAccount\nmetadata: {name: app, namespace: web}\n', 'sa.yaml', 86400);
 */
export function parseServiceAccountsYaml(
  text: string,
  where: string,
  defaultTokenExpiration: number,
): ServiceAccountsFile {
  const result: ServiceAccountsFile = {
    serviceAccounts: [],
    configMapEntries: new Map(),
    skipped: [],
  };
  const docs = parseAllDocuments(text);
  const visit = (obj: unknown, at: string) => {
    if (obj === null || obj === undefined) return;
    if (!isObject(obj))
      throw new WebhookError('ERR_WEBHOOK_SOURCE', `${at}: not a Kubernetes object`);
    const o = obj as KubeObject;
    switch (o.kind) {
      case 'ServiceAccount':
        result.serviceAccounts.push(toServiceAccount(o, at));
        return;
      case 'List':
      case 'ServiceAccountList':
        if (!Array.isArray(o.items))
          throw new WebhookError('ERR_WEBHOOK_SOURCE', `${at}: items must be a list`);
        o.items.forEach((item, i) => visit(item, `${at} items[${i}]`));
        return;
      case 'ConfigMap': {
        const cm = o as ConfigMapLike;
        if (cm.metadata?.name === CONFIG_MAP_NAME) {
          for (const [k, v] of entriesFromConfigMap(cm, defaultTokenExpiration))
            result.configMapEntries.set(k, v);
        }
        return;
      }
      default:
        if (typeof o.kind !== 'string' || o.kind === '') {
          throw new WebhookError('ERR_WEBHOOK_SOURCE', `${at}: not a Kubernetes object (no kind)`);
        }
        // Other objects of a GitOps bundle are fine; they are just not service accounts.
        result.skipped.push(`${at} (${o.kind})`);
    }
  };
  docs.forEach((doc, i) => {
    const at = `${where} document ${i + 1}`;
    if (doc.errors.length > 0) {
      throw new WebhookError(
        'ERR_WEBHOOK_SOURCE',
        `${at}: ${doc.errors[0]?.message ?? 'invalid YAML'}`,
      );
    }
    visit(doc.toJS(), at);
  });
  return result;
}

/** Options of {@link FileServiceAccountSource}. */
export interface FileServiceAccountSourceOptions {
  path: string;
  cache: ServiceAccountCache;
  logger: Logger;
  /** Follow changes to the file (default true). */
  watch?: boolean;
  /** Debounce of the file watch, in milliseconds. */
  debounceMs?: number;
}

/** Service accounts from a watched YAML file. */
export class FileServiceAccountSource implements ServiceAccountSource {
  readonly #options: FileServiceAccountSourceOptions;
  #watch: FileWatch | undefined;
  #synced = false;

  constructor(options: FileServiceAccountSourceOptions) {
    this.#options = options;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** @throws {WebhookError} `ERR_WEBHOOK_SOURCE` when the file cannot be read or parsed. */
  async start(): Promise<void> {
    await this.#load();
    this.#synced = true;
    if (this.#options.watch ?? true) {
      this.#watch = reloadOnChange(this.#options.path, () => this.#load(), {
        logger: this.#options.logger,
        what: 'service accounts file',
        debounceMs: this.#options.debounceMs,
      });
    }
  }

  async close(): Promise<void> {
    this.#watch?.close();
  }

  async #load(): Promise<void> {
    const { path, cache, logger } = this.#options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new WebhookError(
        'ERR_WEBHOOK_SOURCE',
        `cannot read service accounts file ${path}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    const parsed = parseServiceAccountsYaml(text, path, cache.defaults.tokenExpiration);
    cache.replaceAll(parsed.serviceAccounts);
    cache.setConfigMapEntries(parsed.configMapEntries);
    if (parsed.skipped.length > 0)
      logger.warn(
        { file: path, skipped: parsed.skipped },
        'objects that are not service accounts skipped',
      );
    logger.info(
      {
        file: path,
        serviceAccounts: parsed.serviceAccounts.length,
        configMapEntries: parsed.configMapEntries.size,
      },
      'service accounts loaded',
    );
  }
}
