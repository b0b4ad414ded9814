import type { Command } from 'commander';
import type { CloudTrailRecord } from '../audit/index.js';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

interface AuditFlags extends InstanceFlags {
  follow?: boolean;
  denied?: boolean;
  principal?: string;
  since?: string;
  limit: number;
  json?: boolean;
}

/** `latchkey audit`: the CloudTrail records of the caller's account, newest last. */
export function registerAuditCommand(program: Command): void {
  withInstanceOptions(
    program
      .command('audit')
      .description('Show the audit trail: one CloudTrail record per call, denials highlighted.')
      .option('--follow', 'keep printing new records as they arrive')
      .option('--denied', 'only denied calls')
      .option('--principal <arn>', 'only calls by this principal')
      .option('--since <time>', 'only records at or after this ISO-8601 time')
      .option('--limit <n>', 'how many records (1–1000)', (v) => Number(v), 50),
  ).action(async (flags: AuditFlags) => {
    const profile = instanceProfile(flags);
    const search = async (startTime?: string): Promise<CloudTrailRecord[]> => {
      const result = await callJson(profile, 'latchkey', 'POST', '/_latchkey/api/audit/search', {
        limit: flags.limit,
        ...(flags.denied ? { denied: true } : {}),
        ...(flags.principal ? { principal: flags.principal } : {}),
        ...(startTime ? { startTime } : {}),
      });
      return (result.events as CloudTrailRecord[]).reverse();
    };
    const seen = new Set<string>();
    const show = (records: CloudTrailRecord[]) => {
      for (const r of records) {
        if (seen.has(r.eventID)) continue;
        seen.add(r.eventID);
        console.log(flags.json ? JSON.stringify(r) : formatRecord(r));
      }
    };
    let records = await search(flags.since);
    show(records);
    while (flags.follow) {
      await new Promise((r) => setTimeout(r, 1000));
      const last = records.at(-1)?.eventTime ?? flags.since;
      records = await search(last);
      show(records);
    }
  });
}

/** One line per record: time, outcome, call, caller. */
export function formatRecord(r: CloudTrailRecord): string {
  const who = r.userIdentity.arn ?? r.userIdentity.principalId ?? r.userIdentity.type;
  const denied = r.errorCode !== undefined && /AccessDenied|IDPRejectedClaim/.test(r.errorCode);
  const outcome =
    r.errorCode === undefined ? 'ok' : `${denied ? 'DENIED' : 'FAILED'} ${r.errorCode}`;
  const line = `${r.eventTime}  ${outcome.padEnd(22)} ${r.eventSource.replace('.amazonaws.com', '')}:${r.eventName}  ${who}`;
  return r.errorMessage ? `${line}\n    ${r.errorMessage}` : line;
}
