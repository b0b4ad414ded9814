export { auditedCall, callKind, type AuditNotes, type CallKind } from './audited-call.js';
export { createCloudTrailService } from './cloudtrail-api.js';
export { JsonlExporter } from './export.js';
export {
  cloudTrailTime,
  newRecord,
  principalIdentity,
  toRecordValue,
  webIdentityUser,
  type CallFacts,
  type CloudTrailRecord,
  type UserIdentity,
} from './record.js';
export { REDACTED, redactSecrets } from './redact.js';
export { searchAudit, type AuditPage, type AuditQuery } from './search.js';
export {
  AuditTrail,
  auditUnavailable,
  DiscardingAuditTrail,
  type AuditTrailOptions,
} from './trail.js';
export { StoreRowWriter, type AuditRow, type AuditRowWriter } from './row-writer.js';
export { SqliteRowWriter } from './sqlite-row-writer.js';
