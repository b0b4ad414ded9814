/**
 * ARN operators: `ArnEquals` and `ArnLike` (identical), `ArnNotEquals` and `ArnNotLike`. Each of
 * the six colon-delimited segments is matched separately, case-sensitively, with `*` and `?`;
 * the last segment (the resource) may itself contain colons. Policy variables are allowed.
 */
import { splitArn, type ArnParts } from '../arn.js';
import {
  isUnresolved,
  parseTemplate,
  resolveGlob,
  type ContextLookup,
  type Template,
  type VariableRef,
} from '../variables.js';
import { matchTokens } from '../wildcard.js';
import { INVALID, MATCH, NO_MATCH, type ValueSetMatcher } from './matcher.js';

const SEGMENTS = ['partition', 'service', 'region', 'account', 'resource'] as const;

type ArnTemplate = Record<(typeof SEGMENTS)[number], Template>;

function compileArn(value: string, variables: boolean): ArnTemplate | undefined {
  if (!value.startsWith('arn:')) return undefined;
  const parts = splitArn(value);
  if (parts === undefined) return undefined;
  return {
    partition: parseTemplate(parts.partition, variables),
    service: parseTemplate(parts.service, variables),
    region: parseTemplate(parts.region, variables),
    account: parseTemplate(parts.account, variables),
    resource: parseTemplate(parts.resource, variables),
  };
}

/** 1 match, 0 no match, -1 unresolved variable (reported). */
function matchArn(
  t: ArnTemplate,
  arn: ArnParts,
  lookup: ContextLookup,
  unresolved: (ref: VariableRef) => void,
): number {
  for (const seg of SEGMENTS) {
    const tokens = resolveGlob(t[seg], lookup);
    if (isUnresolved(tokens)) {
      unresolved(tokens.unresolved);
      return -1;
    }
    if (!matchTokens(tokens, arn[seg])) return 0;
  }
  return 1;
}

/** Compiles the ARN operators' policy values. */
export function arnMatcher(values: readonly string[], variables: boolean): ValueSetMatcher {
  const templates = values.map((v) => compileArn(v, variables));
  return (requestValue, lookup, unresolved) => {
    const arn = requestValue.startsWith('arn:') ? splitArn(requestValue) : undefined;
    if (arn === undefined) return INVALID;
    let invalid = false;
    for (const t of templates) {
      if (t === undefined) {
        invalid = true;
        continue;
      }
      if (matchArn(t, arn, lookup, unresolved) === 1) return MATCH;
    }
    return invalid ? INVALID : NO_MATCH;
  };
}
