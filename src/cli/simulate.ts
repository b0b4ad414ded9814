import type { Command } from 'commander';
import { callQuery, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

interface SimulateFlags extends InstanceFlags {
  principal: string;
  action: string[];
  resource: string[];
  context: string[];
  json?: boolean;
}

interface EvaluationResult {
  EvalActionName: string;
  EvalResourceName: string;
  EvalDecision: string;
  MatchedStatements?: { member?: { SourcePolicyId: string } | { SourcePolicyId: string }[] } | '';
  MissingContextValues?: { member?: string | string[] } | '';
}

/** `latchkey simulate`: SimulatePrincipalPolicy with a readable answer to "why?". */
export function registerSimulateCommand(program: Command): void {
  withInstanceOptions(
    program
      .command('simulate')
      .description('Would this user or role be allowed? (IAM SimulatePrincipalPolicy, explained)')
      .requiredOption('--principal <arn>', 'user or role ARN')
      .requiredOption('--action <action>', 'action, e.g. s3:GetObject (repeatable)', collect, [])
      .option('--resource <arn>', 'resource ARN (repeatable; default *)', collect, [])
      .option(
        '--context <key=value>',
        'a condition key value, e.g. aws:SourceIp=10.0.0.1 (repeatable)',
        collect,
        [],
      ),
  ).action(async (flags: SimulateFlags) => {
    const params: Record<string, string> = { PolicySourceArn: flags.principal };
    flags.action.forEach((a, i) => (params[`ActionNames.member.${i + 1}`] = a));
    flags.resource.forEach((r, i) => (params[`ResourceArns.member.${i + 1}`] = r));
    flags.context.forEach((kv, i) => {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`--context ${kv}: expected key=value`);
      params[`ContextEntries.member.${i + 1}.ContextKeyName`] = kv.slice(0, eq);
      params[`ContextEntries.member.${i + 1}.ContextKeyValues.member.1`] = kv.slice(eq + 1);
      params[`ContextEntries.member.${i + 1}.ContextKeyType`] = 'string';
    });
    const result = await callQuery(
      instanceProfile(flags),
      'iam',
      'SimulatePrincipalPolicy',
      params,
    );
    const results = list(
      (result.EvaluationResults as { member?: unknown } | undefined)?.member,
    ) as EvaluationResult[];
    if (flags.json) {
      console.log(JSON.stringify(results));
      return;
    }
    for (const r of results) console.log(explain(r));
  });
}

/** One result in words. */
export function explain(r: EvaluationResult): string {
  const matched = list(
    typeof r.MatchedStatements === 'object' ? r.MatchedStatements.member : undefined,
  ) as { SourcePolicyId: string }[];
  const missing = list(
    typeof r.MissingContextValues === 'object' ? r.MissingContextValues.member : undefined,
  ) as string[];
  const head = `${r.EvalDecision === 'allowed' ? 'ALLOWED' : 'DENIED'}  ${r.EvalActionName} on ${r.EvalResourceName}`;
  const why =
    r.EvalDecision === 'allowed'
      ? `allowed by ${matched.map((m) => m.SourcePolicyId).join(', ')}`
      : r.EvalDecision === 'explicitDeny'
        ? `explicitly denied by ${matched.map((m) => m.SourcePolicyId).join(', ')}`
        : 'no statement allows it (implicit deny)';
  const lines = [head, `  ${why}`];
  if (missing.length > 0)
    lines.push(`  the policies also look at context keys not given: ${missing.join(', ')}`);
  return lines.join('\n');
}

function list(value: unknown): unknown[] {
  return value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
