/**
 * The access graph and its questions: which service accounts reach which roles (IRSA trust,
 * Pod Identity associations, role chaining), what those roles may do, who can do an action,
 * what a service account can reach, lint of the set-up, and decisions in plain words.
 *
 * @example
 * import { loadAccessSnapshot, whoCan } from './access/index.js';
 *
 * const snapshot = await loadAccessSnapshot(sources, '000000000000');
 * whoCan(snapshot, 's3:GetObject', 'arn:aws:s3:::reports/q1.csv').principals;
 */
export { ACCESS_ACTIONS, accessApiRoutes } from './api.js';
export { askCanIt, askCanReach, askWhoCan } from './ask.js';
export {
  decideForRole,
  decideUserAssume,
  IRSA_AUDIENCE,
  POD_IDENTITY_SERVICE,
  subjectOf,
  type AssumeTarget,
  type ResourceSide,
} from './decide.js';
export {
  decisionFromJson,
  explainInWords,
  policyName,
  statementName,
  type Explanation,
  type ExplainedRequest,
} from './explain.js';
export {
  buildAccessGraph,
  serviceAccountNodeId,
  type AccessGraph,
  type GraphEdge,
  type GraphNode,
} from './graph.js';
export { LINT_RULES, lintAccess, type LintFinding, type LintRuleId } from './lint.js';
export { allPaths, pathsForServiceAccount, type AccessPath, type PathStep } from './paths.js';
export {
  canIt,
  canReach,
  checkAction,
  checkResource,
  whoCan,
  type CanItInput,
  type CanItResult,
  type CanReachInput,
  type CanReachResult,
  type ReachPath,
  type StatementSummary,
  type WhoCanEntry,
  type WhoCanOptions,
  type WhoCanResult,
} from './queries.js';
export {
  accountsNamedBy,
  bucketOfArn,
  isAssumeRoleAction,
  loadBucketPolicies,
  loadResourceFacts,
  roleOfArn,
  type BucketPolicy,
  type ResourceFacts,
  type ResourceStatementSummary,
} from './resources.js';
export {
  loadAccessSnapshot,
  type AccessSnapshot,
  type AccessSources,
  type BucketFacts,
  type BucketSource,
  type SnapshotCluster,
  type SnapshotRole,
  type SnapshotServiceAccount,
  type SnapshotUser,
} from './snapshot.js';
export { explainAuditRecord, type AuditedDecision } from './why.js';
