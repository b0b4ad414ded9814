/**
 * Compiling a validated policy once into a form that evaluates fast:
 *
 * - actions lower-cased and grouped by service prefix, and each policy indexed by service, so a
 *   request only looks at statements that can name its action (cost independent of statements
 *   for unrelated services);
 * - `*` / `?` patterns compiled to matchers: actions case-insensitive, resources case-sensitive;
 * - resource ARNs matched segment by segment (partition, service, region, account, resource),
 *   where `*` in the resource part spans `:` and `/`;
 * - policy variables parsed into templates (only with Version 2012-10-17, as AWS does).
 */
import { splitArn, type ArnParts } from './arn.js';
import { CompiledCondition } from './conditions/condition.js';
import { PrincipalSet } from './principal.js';
import type {
  Mismatch,
  PolicyDocument,
  PolicyKind,
  PolicyStatement,
  PolicyVersion,
  StatementRef,
} from './types.js';
import { GlobTemplate, type ContextValues, type VariableRef } from './variables.js';
import { compileGlob, type Glob } from './wildcard.js';

/** A statement's actions: `*`, or per service the exact names and the patterns. */
export class ActionSet {
  any = false;
  readonly services = new Map<string, { exact: Set<string>; globs: Glob[] }>();

  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      const lower = pattern.toLowerCase();
      if (lower === '*') {
        this.any = true;
        continue;
      }
      const colon = lower.indexOf(':');
      // Validation rejects these; a stored document that has one simply never matches.
      if (colon <= 0 || colon === lower.length - 1) continue;
      const service = lower.slice(0, colon);
      const name = lower.slice(colon + 1);
      let entry = this.services.get(service);
      if (entry === undefined) {
        entry = { exact: new Set(), globs: [] };
        this.services.set(service, entry);
      }
      if (name.includes('*') || name.includes('?')) entry.globs.push(compileGlob(name));
      else entry.exact.add(name);
    }
  }

  /** Whether the lower-cased `service` / `name` is among the actions. */
  has(service: string, name: string): boolean {
    if (this.any) return true;
    const entry = this.services.get(service);
    if (entry === undefined) return false;
    if (entry.exact.has(name)) return true;
    for (const g of entry.globs) if (g.test(name)) return true;
    return false;
  }
}

/** The request facts resource patterns look at. */
export interface ResourceTarget {
  /** The request resource. */
  readonly resource: string;
  /** Whether it is an ARN; when it is, `c0`…`c4` are the positions of its first five colons. */
  isArn(): boolean;
  readonly c0: number;
  readonly c1: number;
  readonly c2: number;
  readonly c3: number;
  readonly c4: number;
  readonly values: ContextValues;
}

/** A compiled `Resource` / `NotResource` value. */
export interface ResourcePattern {
  /** Whether the request resource matches, or the variable that had no value. */
  match(target: ResourceTarget): boolean | VariableRef;
}

const ANY_RESOURCE: ResourcePattern = { match: () => true };

/** A resource ARN pattern, matched segment by segment. */
class ArnPattern implements ResourcePattern {
  readonly #partition: Glob;
  readonly #service: Glob;
  readonly #region: Glob;
  readonly #account: Glob;
  /** The resource part: `*` spans `:` and `/`; variables are honoured only here. */
  readonly #resource: GlobTemplate;

  constructor(parts: ArnParts, variables: boolean) {
    this.#partition = compileGlob(parts.partition);
    this.#service = compileGlob(parts.service);
    this.#region = compileGlob(parts.region);
    this.#account = compileGlob(parts.account);
    this.#resource = new GlobTemplate(parts.resource, variables);
  }

  match(target: ResourceTarget): boolean | VariableRef {
    if (!target.isArn()) return false;
    const s = target.resource;
    const { c0, c1, c2, c3, c4 } = target;
    // Segment by segment, in place: no substrings of the request resource are made.
    if (
      !this.#partition.testAt(s, c0 + 1, c1) ||
      !this.#service.testAt(s, c1 + 1, c2) ||
      !this.#region.testAt(s, c2 + 1, c3) ||
      !this.#account.testAt(s, c3 + 1, c4)
    ) {
      return false;
    }
    return this.#resource.matchAt(s, c4 + 1, s.length, target.values);
  }
}

function compileResource(pattern: string, variables: boolean): ResourcePattern {
  if (pattern === '*') return ANY_RESOURCE;
  if (!pattern.startsWith('arn:')) {
    const glob = compileGlob(pattern);
    return { match: (t) => glob.test(t.resource) };
  }
  // Short ARNs (fewer than six segments) match as if padded with `*` segments.
  let parts = splitArn(pattern);
  if (parts === undefined) {
    const segs = pattern.split(':');
    while (segs.length < 6) segs.push('*');
    parts = splitArn(segs.join(':')) as ArnParts;
  }
  return new ArnPattern(parts, variables);
}

/** A compiled statement. */
export interface CompiledStatement {
  ref: StatementRef;
  effect: 'Allow' | 'Deny';
  actions: ActionSet;
  /** True for `NotAction`. */
  notAction: boolean;
  /** Absent when the statement has neither `Resource` nor `NotResource` (trust policies). */
  resources?: ResourcePattern[];
  notResource: boolean;
  principals?: PrincipalSet;
  notPrincipal: boolean;
  conditions: CompiledCondition[];
  /** The services the statement's actions name, or `all` (`*` or `NotAction`). */
  services: readonly string[] | 'all';
  /** The trace's explanations of each element's mismatch, built once. */
  mismatches: StatementMismatches;
}

/** Static explanations of a statement's element mismatches. */
export interface StatementMismatches {
  action: Mismatch;
  resource: Mismatch;
  principal: Mismatch;
}

function mismatch(element: Mismatch['element'], detail: string): Mismatch {
  return Object.freeze({ element, detail });
}

const NOT_ACTION = mismatch('NotAction', 'the action is excluded by NotAction');
const ACTION = mismatch('Action', 'the action is not in Action');
const NOT_RESOURCE = mismatch('NotResource', 'the resource is excluded by NotResource');
const RESOURCE = mismatch('Resource', 'the resource is not in Resource');
const NOT_PRINCIPAL = mismatch('NotPrincipal', 'the caller is excluded by NotPrincipal');
const PRINCIPAL = mismatch('Principal', 'the caller is not named in Principal');

/** A policy compiled by {@link compilePolicy}. */
export interface CompiledPolicy {
  readonly id: string;
  readonly kind: PolicyKind;
  readonly version?: PolicyVersion;
  readonly statementCount: number;
  readonly statements: readonly CompiledStatement[];
  /** The statements that may apply to actions of `service` (lower-case), in policy order. */
  candidates(service: string): readonly CompiledStatement[];
  /**
   * The statements whose `Action` / `NotAction` covers `action` (lower-case `service:name`,
   * split), in policy order. Cached per action, so a request's cost does not grow with the
   * statements that name other actions.
   */
  forAction(action: RequestAction): readonly CompiledStatement[];
}

/** A request's action, lower-cased: `key` is `service:name`. */
export interface RequestAction {
  readonly key: string;
  readonly service: string;
  readonly name: string;
}

const ACTION_CACHE_LIMIT = 1024;

function compileStatement(
  s: PolicyStatement,
  index: number,
  policyId: string,
  variables: boolean,
): CompiledStatement {
  const ref: StatementRef = { policyId, index };
  if (s.sid !== undefined && s.sid !== '') ref.sid = s.sid;
  Object.freeze(ref);
  const notAction = s.action === undefined;
  const actions = new ActionSet(s.action ?? s.notAction ?? []);
  const resourceList = s.resource ?? s.notResource;
  const principal = s.principal ?? s.notPrincipal;
  const compiled: CompiledStatement = {
    ref,
    effect: s.effect,
    actions,
    notAction,
    notResource: s.resource === undefined && s.notResource !== undefined,
    notPrincipal: s.principal === undefined && s.notPrincipal !== undefined,
    conditions: s.conditions.map((c) => new CompiledCondition(c, variables)),
    services: notAction || actions.any ? 'all' : [...actions.services.keys()],
    mismatches: {
      action: notAction ? NOT_ACTION : ACTION,
      resource: s.notResource !== undefined ? NOT_RESOURCE : RESOURCE,
      principal: s.notPrincipal !== undefined ? NOT_PRINCIPAL : PRINCIPAL,
    },
  };
  if (resourceList !== undefined) {
    compiled.resources = resourceList.map((r) => compileResource(r, variables));
  }
  if (principal !== undefined) compiled.principals = new PrincipalSet(principal);
  return compiled;
}

/**
 * Compiles a validated document into a {@link CompiledPolicy}, identified in traces by `id`
 * (e.g. a policy ARN, or `role/app/inline/s3`).
 *
 * @example
 * const doc = parsePolicy(text, { kind: 'managed' });
 * const policy = compilePolicy(doc, 'arn:aws:iam::111122223333:policy/ReadLogs');
 */
export function compilePolicy(doc: PolicyDocument, id: string): CompiledPolicy {
  const variables = doc.version === '2012-10-17';
  const statements = doc.statements.map((s, i) => compileStatement(s, i, id, variables));
  const always: number[] = [];
  const byService = new Map<string, number[]>();
  statements.forEach((s, i) => {
    if (s.services === 'all') always.push(i);
    else {
      for (const service of s.services) {
        let list = byService.get(service);
        if (list === undefined) byService.set(service, (list = []));
        list.push(i);
      }
    }
  });
  const cache = new Map<string, readonly CompiledStatement[]>();
  const alwaysStatements = always.map((i) => statements[i] as CompiledStatement);
  const candidates = (service: string): readonly CompiledStatement[] => {
    const hit = cache.get(service);
    if (hit !== undefined) return hit;
    const own = byService.get(service);
    let out: readonly CompiledStatement[];
    if (own === undefined) out = alwaysStatements;
    else if (always.length === 0) out = own.map((i) => statements[i] as CompiledStatement);
    else {
      out = [...new Set([...always, ...own])]
        .sort((a, b) => a - b)
        .map((i) => statements[i] as CompiledStatement);
    }
    // Only services the policy names are cached, so the cache stays bounded.
    if (own !== undefined) cache.set(service, out);
    return out;
  };
  const byAction = new Map<string, readonly CompiledStatement[]>();
  // The last action asked about: requests for one action tend to come in runs.
  let lastAction: RequestAction | undefined;
  let lastStatements: readonly CompiledStatement[] = [];
  const forAction = (action: RequestAction): readonly CompiledStatement[] => {
    if (action === lastAction) return lastStatements;
    const hit = byAction.get(action.key);
    if (hit !== undefined) {
      lastAction = action;
      lastStatements = hit;
      return hit;
    }
    const { service, name } = action;
    const out = candidates(service).filter((st) => st.actions.has(service, name) !== st.notAction);
    if (byAction.size < ACTION_CACHE_LIMIT) byAction.set(action.key, out);
    return out;
  };
  const policy: CompiledPolicy = {
    id,
    kind: doc.kind,
    statementCount: statements.length,
    statements,
    candidates,
    forAction,
  };
  return doc.version === undefined ? policy : { ...policy, version: doc.version };
}
