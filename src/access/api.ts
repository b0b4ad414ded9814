/**
 * The access queries over Latchkey's signed REST-JSON API (signing name `latchkey`), for
 * `latchkey who-can`, `latchkey can-reach` and `latchkey lint` against a running server.
 */
import type { Authorizer } from '../auth/index.js';
import type { RestRoute } from '../protocol/index.js';
import { buildAccessGraph } from './graph.js';
import { LINT_RULES, lintAccess } from './lint.js';
import { askCanIt, askCanReach, askWhoCan } from './ask.js';
import { allPaths } from './paths.js';
import { checkAction, checkResource } from './queries.js';
import { loadAccessSnapshot, type AccessSources } from './snapshot.js';

/** The IAM actions that guard the access queries (AdministratorAccess allows them all). */
export const ACCESS_ACTIONS = {
  whoCan: 'latchkey:WhoCan',
  canReach: 'latchkey:CanReach',
  canIt: 'latchkey:CanIt',
  lint: 'latchkey:LintAccess',
  graph: 'latchkey:GetAccessGraph',
} as const;

/**
 * Routes of the access API, to add to Latchkey's REST-JSON service:
 * `POST /_latchkey/api/access/who-can` `{action, resource}`,
 * `POST /_latchkey/api/access/can-reach` `{cluster, namespace, serviceAccount}`,
 * `POST /_latchkey/api/access/can-it` (the same plus `action`, `resource`),
 * `GET /_latchkey/api/access/lint`, `GET /_latchkey/api/access/graph`.
 *
 * @example
 * const api = createLatchkeyApi(deps);
 * api.routes.push(...accessApiRoutes({ sources, authorizer }));
 */
export function accessApiRoutes(deps: {
  sources: AccessSources;
  authorizer: Authorizer;
}): RestRoute[] {
  const load = (accountId: string) => loadAccessSnapshot(deps.sources, accountId);
  return [
    {
      method: 'POST',
      path: '/_latchkey/api/access/who-can',
      operation: 'GetWhoCan',
      async handler({ principal, body }) {
        const action = checkAction(body.action);
        const resource = checkResource(body.resource ?? '*');
        await deps.authorizer.authorize(principal, {
          action: ACCESS_ACTIONS.whoCan,
          resource: '*',
        });
        return askWhoCan(deps.sources, principal.accountId, action, resource);
      },
    },
    {
      method: 'POST',
      path: '/_latchkey/api/access/can-reach',
      operation: 'GetCanReach',
      async handler({ principal, body }) {
        await deps.authorizer.authorize(principal, {
          action: ACCESS_ACTIONS.canReach,
          resource: '*',
        });
        return askCanReach(deps.sources, principal.accountId, body);
      },
    },
    {
      method: 'POST',
      path: '/_latchkey/api/access/can-it',
      operation: 'GetCanIt',
      async handler({ principal, body }) {
        await deps.authorizer.authorize(principal, { action: ACCESS_ACTIONS.canIt, resource: '*' });
        return askCanIt(deps.sources, principal.accountId, body);
      },
    },
    {
      method: 'GET',
      path: '/_latchkey/api/access/lint',
      operation: 'GetAccessLint',
      async handler({ principal }) {
        await deps.authorizer.authorize(principal, { action: ACCESS_ACTIONS.lint, resource: '*' });
        const snapshot = await load(principal.accountId);
        return { findings: lintAccess(snapshot), rules: LINT_RULES };
      },
    },
    {
      method: 'GET',
      path: '/_latchkey/api/access/graph',
      operation: 'GetAccessGraph',
      async handler({ principal }) {
        await deps.authorizer.authorize(principal, { action: ACCESS_ACTIONS.graph, resource: '*' });
        const snapshot = await load(principal.accountId);
        return buildAccessGraph(snapshot, allPaths(snapshot));
      },
    },
  ];
}
