/**
 * Pod identity associations from a file, in the upstream webhook's format
 * (`--watch-container-credentials-config`): `{"identities":[{"namespace":"app",
 * "serviceAccount":"web"}]}` (JSON, or the same in YAML). Every listed service account gets
 * the same injection settings. The file is watched; an empty file means no associations, a
 * broken edit is logged and the last good contents stay in force.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { errorMessage, WebhookError } from '../errors.js';
import { reloadOnChange, type FileWatch } from '../file-watch.js';
import {
  identityKey,
  type ContainerCredentialsConfig,
  type PodIdentityAssociationSource,
} from './source.js';

/**
 * Parses an associations file into identity keys (`namespace/serviceAccount`).
 *
 * @throws {WebhookError} `ERR_WEBHOOK_SOURCE` when the text is not the expected shape.
 * @example
 * parseAssociationsFile('{"identities":[{"namespace":"app","serviceAccount":"web"}]}', 'f.json');
 * // Set { 'app/web' }
 */
export function parseAssociationsFile(text: string, where: string): Set<string> {
  const keys = new Set<string>();
  if (text.trim() === '') return keys;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where}: ${errorMessage(err)}`, { cause: err });
  }
  if (doc === null || doc === undefined) return keys;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where}: expected an object with "identities"`);
  }
  const identities = (doc as { identities?: unknown }).identities;
  if (identities === undefined || identities === null) return keys;
  if (!Array.isArray(identities)) {
    throw new WebhookError('ERR_WEBHOOK_SOURCE', `${where}: "identities" must be a list`);
  }
  identities.forEach((item: unknown, i) => {
    const { namespace, serviceAccount } = (item ?? {}) as {
      namespace?: unknown;
      serviceAccount?: unknown;
    };
    if (typeof namespace !== 'string' || typeof serviceAccount !== 'string') {
      throw new WebhookError(
        'ERR_WEBHOOK_SOURCE',
        `${where}: identities[${i}] needs string "namespace" and "serviceAccount"`,
      );
    }
    keys.add(identityKey(namespace, serviceAccount));
  });
  return keys;
}

/** Options of {@link FileAssociationSource}. */
export interface FileAssociationSourceOptions {
  path: string;
  /** What every listed service account gets. */
  config: ContainerCredentialsConfig;
  logger: Logger;
  /** Follow changes to the file (default true). */
  watch?: boolean;
  debounceMs?: number;
}

/** Associations from a watched file. */
export class FileAssociationSource implements PodIdentityAssociationSource {
  readonly #options: FileAssociationSourceOptions;
  #keys = new Set<string>();
  #watch: FileWatch | undefined;

  constructor(options: FileAssociationSourceOptions) {
    this.#options = options;
  }

  /** Loads the file and starts watching it. @throws {WebhookError} `ERR_WEBHOOK_SOURCE`. */
  async start(): Promise<void> {
    await this.#load();
    if (this.#options.watch ?? true) {
      this.#watch = reloadOnChange(this.#options.path, () => this.#load(), {
        logger: this.#options.logger,
        what: 'pod identity associations file',
        debounceMs: this.#options.debounceMs,
      });
    }
  }

  lookup(
    namespace: string,
    serviceAccount: string,
  ): Promise<ContainerCredentialsConfig | undefined> {
    return Promise.resolve(
      this.#keys.has(identityKey(namespace, serviceAccount)) ? this.#options.config : undefined,
    );
  }

  async close(): Promise<void> {
    this.#watch?.close();
  }

  async #load(): Promise<void> {
    const { path, logger } = this.#options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new WebhookError(
        'ERR_WEBHOOK_SOURCE',
        `cannot read associations file ${path}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    this.#keys = parseAssociationsFile(text, path);
    logger.info({ file: path, identities: this.#keys.size }, 'pod identity associations loaded');
  }
}
