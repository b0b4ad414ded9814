/**
 * The console's JSON API: what each page shows, for the signed-in principal's account only,
 * and only what that principal's policies allow it to read.
 */
import type { Kysely } from 'kysely';
import {
  ACCESS_ACTIONS,
  askCanIt,
  askCanReach,
  askWhoCan,
  buildAccessGraph,
  allPaths,
  checkAction,
  checkResource,
  explainAuditRecord,
  LINT_RULES,
  lintAccess,
  loadAccessSnapshot,
  type AccessSources,
} from '../access/index.js';
import { searchAudit } from '../audit/index.js';
import type { Authorizer, Principal } from '../auth/index.js';
import type { Database } from '../store/index.js';
import { ConsoleError } from './errors.js';

/** What the console's API reads. */
export interface ConsoleApiDeps {
  db: Kysely<Database>;
  authorizer: Authorizer;
  access: AccessSources;
}

/** A GET endpoint: the principal and the query string in, JSON out. */
type Reader = (principal: Principal, query: URLSearchParams) => Promise<unknown>;

const EVENT_ID = /^[0-9a-f-]{36}$/;

/**
 * The console API's GET endpoints by path below `/_latchkey/console/api/`, and its POST ones.
 */
export function consoleApi(deps: ConsoleApiDeps): {
  get: Record<string, Reader>;
  post: Record<string, (principal: Principal, body: Record<string, unknown>) => Promise<unknown>>;
} {
  const allow = (principal: Principal, action: string, resource = '*') =>
    deps.authorizer.authorize(principal, { action, resource });
  const snapshot = (principal: Principal) => loadAccessSnapshot(deps.access, principal.accountId);

  return {
    get: {
      async me(principal) {
        return { arn: principal.arn, accountId: principal.accountId, type: principal.type };
      },

      async overview(principal) {
        await allow(principal, 'eks:ListClusters');
        const s = await snapshot(principal);
        return {
          clusters: s.clusters,
          serviceAccounts: s.serviceAccounts,
          associations: s.associations.map((a) => ({
            associationId: a.associationId,
            associationArn: a.associationArn,
            cluster: a.clusterName,
            namespace: a.namespace,
            serviceAccount: a.serviceAccount,
            roleArn: a.roleArn,
            ...(a.targetRoleArn !== undefined ? { targetRoleArn: a.targetRoleArn } : {}),
            disableSessionTags: a.disableSessionTags,
          })),
          providers: s.providers,
        };
      },

      async roles(principal) {
        await allow(principal, 'iam:ListRoles');
        const s = await snapshot(principal);
        return {
          roles: s.roles
            .filter((r) => !r.foreign)
            .map((r) => ({
              arn: r.arn,
              roleName: r.roleName,
              maxSessionDuration: r.maxSessionDuration,
              tags: r.tags,
              trustPolicy: r.trust ? pretty(r.trust.text) : null,
              policies: r.identity.map((p) => ({ id: p.id, document: pretty(p.text) })),
              ...(r.boundary
                ? { permissionsBoundary: { id: r.boundary.id, document: pretty(r.boundary.text) } }
                : {}),
            })),
        };
      },

      async decisions(principal, query) {
        await allow(principal, 'cloudtrail:LookupEvents');
        const limit = intParam(query.get('limit'), 50, 1, 200);
        const page = await searchAudit(deps.db, {
          accountId: principal.accountId,
          limit,
          ...(query.get('denied') === '1' ? { denied: true } : {}),
        });
        return {
          decisions: page.records.map((r) => {
            const why = explainAuditRecord(r);
            return {
              eventId: why.eventId,
              eventTime: why.eventTime,
              eventSource: why.eventSource,
              eventName: why.eventName,
              caller: why.caller,
              denied: why.denied,
              ...(why.errorCode !== undefined ? { errorCode: why.errorCode } : {}),
              ...(why.errorMessage !== undefined ? { errorMessage: why.errorMessage } : {}),
              explainable: why.explanation !== undefined,
            };
          }),
        };
      },

      async why(principal, query) {
        await allow(principal, 'cloudtrail:LookupEvents');
        const eventId = query.get('eventId') ?? '';
        if (!EVENT_ID.test(eventId)) {
          throw new ConsoleError('BadRequest', 'eventId must be an audit event id (a UUID).');
        }
        const page = await searchAudit(deps.db, {
          accountId: principal.accountId,
          attribute: { key: 'EventId', value: eventId },
          limit: 1,
        });
        const record = page.records[0];
        if (record === undefined) {
          throw new ConsoleError('NotFound', `No audit event ${eventId} in your account.`);
        }
        return explainAuditRecord(record);
      },

      async graph(principal) {
        await allow(principal, ACCESS_ACTIONS.graph);
        const s = await snapshot(principal);
        return buildAccessGraph(s, allPaths(s));
      },

      async 'who-can'(principal, query) {
        const action = checkAction(query.get('action') ?? undefined);
        const resource = checkResource(query.get('resource') ?? '*');
        await allow(principal, ACCESS_ACTIONS.whoCan);
        return askWhoCan(deps.access, principal.accountId, action, resource);
      },

      async 'can-reach'(principal, query) {
        await allow(principal, ACCESS_ACTIONS.canReach);
        return askCanReach(deps.access, principal.accountId, {
          cluster: query.get('cluster') ?? undefined,
          namespace: query.get('namespace') ?? undefined,
          serviceAccount: query.get('serviceAccount') ?? undefined,
        });
      },

      async lint(principal) {
        await allow(principal, ACCESS_ACTIONS.lint);
        return { findings: lintAccess(await snapshot(principal)), rules: LINT_RULES };
      },
    },
    post: {
      async 'can-it'(principal, body) {
        await allow(principal, ACCESS_ACTIONS.canIt);
        return askCanIt(deps.access, principal.accountId, body);
      },
    },
  };
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function intParam(value: string | null, fallback: number, min: number, max: number): number {
  if (value === null) return fallback;
  const n = Number(value);
  if (!/^\d{1,4}$/.test(value) || n < min || n > max) {
    throw new ConsoleError('BadRequest', `limit must be a whole number from ${min} to ${max}.`);
  }
  return n;
}
