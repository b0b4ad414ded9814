/**
 * Validation of a policy document's JSON by AWS's grammar and the rules of each policy kind.
 *
 * Checks run in the order IAM reports them (it reports only the first failing stage):
 * 1. syntax ("Syntax errors in policy.")
 * 2. version (managed policies need 2012-10-17)
 * 3. principal rules of the kind
 * 4. the legacy parser: case-sensitive Effect, date values, resource shapes
 * 5. unique Sids, actions present, resources present
 * 6. resource ARN format, then action vendor prefixes
 * 7. kind-specific action and resource rules (trust policies, service-scoped resource policies)
 */
import { failsLegacyResourceParse, resourceFormatError, splitArn } from './arn.js';
import { passesLegacyDateParse } from './conditions/date.js';
import { parseOperator } from './conditions/operators.js';
import { MESSAGES, malformed } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import type {
  ConditionEntry,
  PolicyDocument,
  PolicyKind,
  PolicyStatement,
  PolicyVersion,
  PrincipalElement,
} from './types.js';
import { compileGlob } from './wildcard.js';

/** Options that change what a kind accepts. */
export interface ValidateOptions {
  kind: PolicyKind;
  /**
   * For resource-based policies of one service (e.g. `s3` for bucket policies): actions must be
   * that service's ("Policy has invalid action") and resources its ARNs ("Policy has invalid
   * resource").
   */
  service?: string;
}

const TOP_ELEMENTS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const VERSIONS = new Set<string>(['2012-10-17', '2008-10-17']);
const IDENTITY_KINDS = new Set<PolicyKind>([
  'identity',
  'managed',
  'role-inline',
  'user-inline',
  'group-inline',
  'boundary',
  'session',
]);
/** Actions a role trust policy may name. */
const TRUST_ACTIONS = [
  'sts:assumerole',
  'sts:assumerolewithsaml',
  'sts:assumerolewithwebidentity',
  'sts:tagsession',
  'sts:setsourceidentity',
  'sts:setcontext',
];

class SyntaxFailure extends Error {}

function syntax(ok: boolean): asserts ok {
  if (!ok) throw new SyntaxFailure();
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function has(o: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** A string or array of strings, as a list; syntax error otherwise. */
function stringList(v: JsonValue | undefined): string[] {
  if (typeof v === 'string') return [v];
  syntax(Array.isArray(v));
  return v.map((x) => {
    syntax(typeof x === 'string');
    return x;
  });
}

/** Condition values: strings, with numbers and booleans allowed unquoted as the grammar says. */
function conditionValues(v: JsonValue | undefined): string[] {
  const scalar = (x: JsonValue | undefined): string => {
    syntax(typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean');
    return String(x);
  };
  if (Array.isArray(v)) return v.map(scalar);
  return [scalar(v)];
}

function parsePrincipal(v: JsonValue | undefined): PrincipalElement | 'invalid' {
  if (v === '*') return '*';
  if (!isObject(v)) return 'invalid';
  const out: Exclude<PrincipalElement, '*'> = {};
  for (const [type, values] of Object.entries(v)) {
    if (!PRINCIPAL_TYPES.has(type)) return 'invalid';
    if (typeof values !== 'string' && !Array.isArray(values)) return 'invalid';
    const list = typeof values === 'string' ? [values] : values;
    if (!list.every((x): x is string => typeof x === 'string')) return 'invalid';
    out[type as keyof typeof out] = list;
  }
  return out;
}

interface RawStatement {
  json: JsonObject;
  statement: PolicyStatement;
  principalInvalid: boolean;
}

/** Stage 1: the grammar. Returns statements normalised, or throws SyntaxFailure. */
function readSyntax(json: JsonValue): {
  version?: PolicyVersion;
  id?: string;
  raw: RawStatement[];
} {
  syntax(isObject(json));
  for (const key of Object.keys(json)) syntax(TOP_ELEMENTS.has(key));
  let version: PolicyVersion | undefined;
  if (has(json, 'Version')) {
    const v = json['Version'];
    syntax(typeof v === 'string' && VERSIONS.has(v));
    version = v as PolicyVersion;
  }
  let id: string | undefined;
  if (has(json, 'Id')) {
    const v = json['Id'];
    syntax(typeof v === 'string');
    id = v;
  }
  syntax(has(json, 'Statement'));
  const st = json['Statement'];
  const list = Array.isArray(st) ? st : [st];
  syntax(isObject(st) || Array.isArray(st));
  syntax(list.length > 0);
  const raw = list.map((s) => readStatement(s));
  const out: { version?: PolicyVersion; id?: string; raw: RawStatement[] } = { raw };
  if (version !== undefined) out.version = version;
  if (id !== undefined) out.id = id;
  return out;
}

function readStatement(s: JsonValue | undefined): RawStatement {
  syntax(isObject(s));
  for (const key of Object.keys(s)) syntax(STATEMENT_ELEMENTS.has(key));
  syntax(!(has(s, 'Resource') && has(s, 'NotResource')));
  syntax(!(has(s, 'Action') && has(s, 'NotAction')));
  syntax(!(has(s, 'Principal') && has(s, 'NotPrincipal')));
  syntax(has(s, 'Effect'));
  const effect = s['Effect'];
  syntax(typeof effect === 'string');
  const lower = effect.toLowerCase();
  syntax(lower === 'allow' || lower === 'deny');
  const statement: PolicyStatement = {
    effect: lower === 'allow' ? 'Allow' : 'Deny',
    conditions: [],
  };
  if (has(s, 'Sid')) {
    const sid = s['Sid'];
    syntax(typeof sid === 'string');
    statement.sid = sid;
  }
  if (has(s, 'Action')) statement.action = stringList(s['Action']);
  if (has(s, 'NotAction')) statement.notAction = stringList(s['NotAction']);
  if (has(s, 'Resource')) statement.resource = stringList(s['Resource']);
  if (has(s, 'NotResource')) statement.notResource = stringList(s['NotResource']);
  if (has(s, 'Condition')) statement.conditions = readConditions(s['Condition']);
  let principalInvalid = false;
  for (const element of ['Principal', 'NotPrincipal'] as const) {
    if (!has(s, element)) continue;
    const p = parsePrincipal(s[element]);
    if (p === 'invalid') principalInvalid = true;
    else if (element === 'Principal') statement.principal = p;
    else statement.notPrincipal = p;
  }
  return { json: s, statement, principalInvalid };
}

function readConditions(v: JsonValue | undefined): ConditionEntry[] {
  syntax(isObject(v));
  const out: ConditionEntry[] = [];
  for (const [operator, block] of Object.entries(v)) {
    syntax(isObject(block));
    const entries = Object.entries(block);
    // IAM accepts an unknown operator only with an empty block (it then has no effect).
    if (parseOperator(operator) === undefined) {
      syntax(entries.length === 0);
      continue;
    }
    for (const [key, values] of entries) {
      out.push({ operator, key, values: conditionValues(values) });
    }
  }
  return out;
}

/**
 * Validates parsed JSON as a policy of `options.kind`; throws AwsError MalformedPolicyDocument
 * with AWS's message for the first failing check.
 */
export function validatePolicy(json: JsonValue, options: ValidateOptions): PolicyDocument {
  const { kind } = options;
  let read: ReturnType<typeof readSyntax>;
  try {
    read = readSyntax(json);
  } catch (err) {
    if (!(err instanceof SyntaxFailure)) throw err;
    if (kind === 'trust' && isObject(json)) throw malformed(trustSyntaxMessage(json));
    throw malformed(MESSAGES.syntax);
  }
  const { raw } = read;
  const statements = raw.map((r) => r.statement);

  // 2. Version: CreatePolicy (managed policies, hence boundaries) requires 2012-10-17.
  if ((kind === 'managed' || kind === 'boundary') && read.version !== '2012-10-17') {
    throw malformed(MESSAGES.version);
  }

  // 3. Principals, by kind.
  checkPrincipals(raw, kind);

  // 4. Legacy parser: Effect is case-sensitive, date values must parse, resource shapes.
  for (const r of raw) {
    if (r.json['Effect'] !== 'Allow' && r.json['Effect'] !== 'Deny')
      throw malformed(MESSAGES.legacy);
    for (const c of r.statement.conditions) {
      const op = parseOperator(c.operator);
      if (op?.base.family === 'date' && !c.values.every(passesLegacyDateParse)) {
        throw malformed(MESSAGES.legacy);
      }
    }
  }
  let resourceError: string | undefined;
  for (const element of ['resource', 'notResource'] as const) {
    for (const s of statements) {
      const list = s[element];
      if (list === undefined) continue;
      // IAM reports the last malformed value in reverse-sorted order.
      for (const r of [...list].sort().reverse())
        resourceError = resourceFormatError(r) ?? resourceError;
      if (resourceError === undefined && list.some(failsLegacyResourceParse)) {
        throw malformed(MESSAGES.legacy);
      }
    }
  }

  // 5. Sids, actions, resources.
  checkSids(statements, kind);
  for (const s of statements) {
    const actions = s.action ?? s.notAction;
    if (actions === undefined || actions.length === 0) {
      throw malformed(kind === 'trust' ? MESSAGES.trustMissingAction : MESSAGES.noActions);
    }
  }
  if (IDENTITY_KINDS.has(kind)) {
    for (const s of statements) {
      const resources = s.resource ?? s.notResource;
      if (resources === undefined || resources.length === 0) throw malformed(MESSAGES.noResources);
    }
  }

  // 6. Resource formats, then vendors.
  if (kind === 'trust') checkTrustResources(statements);
  if (resourceError !== undefined) throw malformed(resourceError);
  for (const element of ['action', 'notAction'] as const) {
    for (const s of statements) for (const a of s[element] ?? []) checkVendor(a);
  }

  // 7. Kind-specific rules.
  if (kind === 'trust') checkTrustActions(statements);
  if (kind === 'resource' && options.service !== undefined) {
    checkServiceScope(statements, options.service);
  }

  const doc: PolicyDocument = { kind, statements };
  if (read.version !== undefined) doc.version = read.version;
  if (read.id !== undefined) doc.id = read.id;
  return doc;
}

/** Trust policies answer syntax problems with more specific messages where IAM does. */
function trustSyntaxMessage(json: JsonObject): string {
  const st = json['Statement'];
  const list = Array.isArray(st) ? st : st === undefined ? [] : [st];
  if (Array.isArray(st) && st.length === 0) return MESSAGES.trustEmptyStatement;
  for (const s of list) {
    if (isObject(s) && !has(s, 'Effect')) return MESSAGES.trustMissingEffect;
  }
  return MESSAGES.syntax;
}

function checkPrincipals(raw: readonly RawStatement[], kind: PolicyKind): void {
  for (const r of raw) {
    const s = r.statement;
    const present = has(r.json, 'Principal') || has(r.json, 'NotPrincipal');
    if (IDENTITY_KINDS.has(kind)) {
      if (present) throw malformed(MESSAGES.principalNotAllowed);
      continue;
    }
    if (!present) throw malformed(MESSAGES.missingPrincipal);
    if (kind === 'trust' && s.notPrincipal !== undefined)
      throw malformed(MESSAGES.trustNotPrincipal);
    if (r.principalInvalid) throw malformed(MESSAGES.invalidPrincipal);
    const element = s.principal ?? s.notPrincipal;
    if (element === undefined || element === '*') continue;
    if (Object.keys(element).length === 0) {
      throw malformed(`${MESSAGES.missingPrincipal} cannot be empty!`);
    }
    for (const [type, values] of Object.entries(element) as [string, string[]][]) {
      for (const value of values) {
        if (!validPrincipalValue(type, value, kind)) {
          throw malformed(
            kind === 'trust'
              ? MESSAGES.invalidPrincipalDetail(type === 'Service' ? 'SERVICE' : type, value)
              : MESSAGES.invalidPrincipal,
          );
        }
      }
    }
  }
}

const ACCOUNT = /^\d{12}$/;
const UNIQUE_ID = /^A[A-Z0-9]{15,127}$/;
const IAM_PRINCIPAL_RESOURCE = /^(root|user\/.+|role\/.+)$/;
const STS_PRINCIPAL_RESOURCE = /^(assumed-role\/[^/]+\/.+|federated-user\/.+)$/;

/** Whether `value` can name a principal of `type` (IAM also checks it exists; we cannot). */
export function validPrincipalValue(type: string, value: string, kind: PolicyKind): boolean {
  switch (type) {
    case 'AWS': {
      if (value === '*' || ACCOUNT.test(value) || UNIQUE_ID.test(value)) return true;
      // "You cannot use a wildcard to match part of a principal name or ARN."
      if (value.includes('*') || value.includes('?')) return false;
      const arn = value.startsWith('arn:') ? splitArn(value) : undefined;
      if (arn === undefined || !ACCOUNT.test(arn.account) || arn.region !== '') return false;
      if (arn.service === 'iam') return IAM_PRINCIPAL_RESOURCE.test(arn.resource);
      if (arn.service === 'sts') return STS_PRINCIPAL_RESOURCE.test(arn.resource);
      return false;
    }
    case 'Service':
      return value === '*' || /^[a-z0-9][a-z0-9.-]*\.[a-z0-9.-]+$/i.test(value);
    case 'Federated': {
      if (value.startsWith('arn:')) {
        const arn = splitArn(value);
        return (
          arn !== undefined &&
          arn.service === 'iam' &&
          ACCOUNT.test(arn.account) &&
          /^(oidc-provider|saml-provider)\/.+$/.test(arn.resource)
        );
      }
      return /^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$/i.test(value);
    }
    case 'CanonicalUser':
      return kind !== 'trust' && /^[0-9a-f]{64}$/.test(value);
    default:
      return false;
  }
}

function checkSids(statements: readonly PolicyStatement[], kind: PolicyKind): void {
  const seen = new Set<string>();
  for (const s of statements) {
    if (s.sid === undefined || s.sid === '') continue;
    if (seen.has(s.sid)) throw malformed(MESSAGES.duplicateSid);
    seen.add(s.sid);
  }
  // IAM policies allow only alphanumeric Sids; resource policies of other services are laxer.
  if (kind === 'resource') return;
  for (const s of statements) {
    if (s.sid !== undefined && !/^[0-9A-Za-z]*$/.test(s.sid)) {
      throw malformed(MESSAGES.sidNotAlphanumeric);
    }
  }
}

function checkVendor(action: string): void {
  const parts = action.split(':');
  if (parts.length === 1 && parts[0] !== '*') throw malformed(MESSAGES.vendorMissing);
  if (parts.length > 2) throw malformed(MESSAGES.vendorColons);
  const vendor = parts[0] as string;
  if (vendor !== '*' && /[^a-zA-Z0-9\-.]/.test(vendor))
    throw malformed(MESSAGES.vendorInvalid(vendor));
}

function checkTrustResources(statements: readonly PolicyStatement[]): void {
  for (const s of statements) {
    if (s.resource !== undefined) throw malformed(MESSAGES.trustResource);
    if (s.notResource !== undefined) throw malformed(MESSAGES.trustNotResource);
  }
}

function checkTrustActions(statements: readonly PolicyStatement[]): void {
  for (const s of statements) {
    for (const a of s.action ?? s.notAction ?? []) {
      // A pattern is acceptable when it can name one of the role-assumption actions.
      const glob = compileGlob(a, true);
      if (a === '*' || !TRUST_ACTIONS.some((t) => glob.test(t)))
        throw malformed(MESSAGES.trustAction);
    }
  }
}

function checkServiceScope(statements: readonly PolicyStatement[], service: string): void {
  const prefix = `${service.toLowerCase()}:`;
  for (const s of statements) {
    for (const a of s.action ?? s.notAction ?? []) {
      if (a !== '*' && !a.toLowerCase().startsWith(prefix)) throw malformed(MESSAGES.invalidAction);
    }
    for (const r of s.resource ?? s.notResource ?? []) {
      if (r === '*') continue;
      const arn = splitArn(r);
      if (arn === undefined || arn.service !== service) throw malformed(MESSAGES.invalidResource);
    }
  }
}
