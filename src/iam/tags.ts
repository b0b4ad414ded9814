import { AwsError } from '../errors/index.js';
import type { QueryParams, XmlObject } from '../protocol/index.js';
import { validateParameter } from './validate.js';

/** IAM's quota of tags per resource. */
export const MAX_TAGS = 50;

const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Reads and validates `Tags.member.N.Key/Value` as IAM does. */
export function readTags(params: QueryParams, name = 'Tags'): Record<string, string> {
  const entries = params.structList(name);
  if (entries.length > MAX_TAGS) {
    throw new AwsError('LimitExceeded', `The number of tags has reached the maximum limit.`);
  }
  const tags: Record<string, string> = {};
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = validateParameter('tags.member.key', entry.Key ?? '', {
      pattern: TAG_KEY,
      patternText: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+',
      min: 1,
      max: 128,
    });
    const value = validateParameter('tags.member.value', entry.Value ?? '', {
      pattern: TAG_VALUE,
      patternText: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*',
      max: 256,
    });
    if (key.toLowerCase().startsWith('aws:')) {
      throw new AwsError('InvalidInput', 'User-defined tag keys can’t start with the prefix aws:.');
    }
    // IAM tag keys are unique case-insensitively.
    if (seen.has(key.toLowerCase())) {
      throw new AwsError(
        'InvalidInput',
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    }
    seen.add(key.toLowerCase());
    tags[key] = value;
  }
  return tags;
}

/** Merges new tags over old ones (keys compared case-insensitively, the new spelling wins). */
export function mergeTags(
  current: Record<string, string>,
  added: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const lowerAdded = new Set(Object.keys(added).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(current)) if (!lowerAdded.has(k.toLowerCase())) out[k] = v;
  Object.assign(out, added);
  if (Object.keys(out).length > MAX_TAGS) {
    throw new AwsError('LimitExceeded', 'The number of tags has reached the maximum limit.');
  }
  return out;
}

/** Removes tag keys (case-insensitively). */
export function removeTags(
  current: Record<string, string>,
  keys: string[],
): Record<string, string> {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  return Object.fromEntries(Object.entries(current).filter(([k]) => !drop.has(k.toLowerCase())));
}

/** Tags as IAM's XML lists them. */
export function tagsXml(tags: Record<string, string>): XmlObject[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
