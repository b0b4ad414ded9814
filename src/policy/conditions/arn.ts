/**
 * ARN operators: `ArnEquals` and `ArnLike` (identical), `ArnNotEquals` and `ArnNotLike`. Each of
 * the six colon-delimited segments is matched separately, case-sensitively, with `*` and `?`;
 * the last segment (the resource) may itself contain colons. Policy variables are allowed.
 */
import { splitArn, type ArnParts } from '../arn.js';
import { GlobTemplate, type ContextValues } from '../variables.js';
import type { ValueSetMatcher, VariableSink } from './matcher.js';

const SEGMENTS = ['partition', 'service', 'region', 'account', 'resource'] as const;

type ArnTemplate = Record<(typeof SEGMENTS)[number], GlobTemplate>;

function compileArn(value: string, variables: boolean): ArnTemplate | undefined {
  if (!value.startsWith('arn:')) return undefined;
  const parts = splitArn(value);
  if (parts === undefined) return undefined;
  return {
    partition: new GlobTemplate(parts.partition, variables),
    service: new GlobTemplate(parts.service, variables),
    region: new GlobTemplate(parts.region, variables),
    account: new GlobTemplate(parts.account, variables),
    resource: new GlobTemplate(parts.resource, variables),
  };
}

function matchArn(
  t: ArnTemplate,
  arn: ArnParts,
  context: ContextValues,
  sink: VariableSink,
): boolean {
  for (const seg of SEGMENTS) {
    const m = t[seg].match(arn[seg], context);
    if (m === false) return false;
    if (m !== true) {
      sink.unresolved(m);
      return false;
    }
  }
  return true;
}

/** Compiles the ARN operators' policy values. */
export function arnMatcher(values: readonly string[], variables: boolean): ValueSetMatcher {
  const templates = values.map((v) => compileArn(v, variables));
  return (requestValue, context, sink) => {
    const arn = requestValue.startsWith('arn:') ? splitArn(requestValue) : undefined;
    if (arn === undefined) return undefined;
    let invalid = false;
    for (const t of templates) {
      if (t === undefined) invalid = true;
      else if (matchArn(t, arn, context, sink)) return true;
    }
    return invalid ? undefined : false;
  };
}
