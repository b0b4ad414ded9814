import type { Command } from 'commander';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

interface JsonFlags extends InstanceFlags {
  json?: boolean;
}

interface StepJson {
  via: string;
  roleArn: string;
  associationId?: string;
}

interface WhoCanJson {
  action: string;
  resource: string;
  resourceAccount?: string;
  resourcePolicy?: string;
  roleTrust?: { roleArn: string; known: boolean };
  principals: {
    kind: 'serviceAccount' | 'subjectPattern' | 'role' | 'user' | 'anonymous';
    accountId?: string;
    cluster?: string;
    namespace?: string;
    serviceAccount?: string;
    subjectPattern?: string;
    roleArn?: string;
    userArn?: string;
    path: StepJson[];
    allowedBy: string[];
  }[];
}

interface StatementJson {
  policy: string;
  statement: string;
  actions: string[];
  resources: string[];
  conditional: boolean;
}

interface CanReachJson {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  paths: {
    mechanism: string;
    subjectPattern?: string;
    steps: StepJson[];
    works: boolean;
    problem?: string;
    maxSessionSeconds: number;
    allows: StatementJson[];
    denies: StatementJson[];
    resourcePolicies?: (StatementJson & {
      effect: 'Allow' | 'Deny';
      resourceArn: string;
      crossAccount: boolean;
    })[];
    permissionsBoundary?: string;
  }[];
}

interface LintJson {
  findings: { rule: string; severity: string; subject: string; message: string; fix: string }[];
}

/** `latchkey who-can`, `latchkey can-reach` and `latchkey lint`: the access graph's questions. */
export function registerAccessCommands(program: Command): void {
  withInstanceOptions(
    program
      .command('who-can')
      .description(
        'Who can do ACTION on RESOURCE? Users, roles and the service accounts that reach them; for an S3 resource, with its bucket policy and owner account.',
      )
      .argument('<action>', 'an action, e.g. s3:GetObject')
      .argument('[resource]', 'a resource ARN (default *)', '*'),
  ).action(async (action: string, resource: string, flags: JsonFlags) => {
    const result = (await callJson(
      instanceProfile(flags),
      'latchkey',
      'POST',
      '/_latchkey/api/access/who-can',
      { action, resource },
    )) as unknown as WhoCanJson;
    if (flags.json) {
      console.log(JSON.stringify(result));
      return;
    }
    if (result.resourcePolicy !== undefined) {
      console.log(
        `(with the bucket policy of ${result.resourcePolicy}, owned by account ${result.resourceAccount ?? ''})`,
      );
    }
    if (result.roleTrust !== undefined) console.log(roleTrustLine(result.roleTrust));
    if (result.principals.length === 0) {
      console.log(`Nobody can do ${action} on ${resource}.`);
      return;
    }
    const accounts = new Set(result.principals.map((p) => p.accountId).filter(Boolean));
    for (const p of result.principals) {
      const where =
        accounts.size > 1 && p.accountId !== undefined ? ` (account ${p.accountId})` : '';
      const who =
        p.kind === 'anonymous'
          ? 'anyone, without credentials (anonymous)'
          : p.kind === 'user'
            ? `user ${p.userArn ?? ''}`
            : p.kind === 'role'
              ? `role ${p.roleArn ?? ''}`
              : p.kind === 'subjectPattern'
                ? `any service account matching ${p.subjectPattern ?? '*'} in ${p.cluster ?? ''}${where}`
                : `${p.cluster ?? ''} ${p.namespace ?? ''}/${p.serviceAccount ?? ''}${where}`;
      console.log(who);
      if (p.path.length > 0) console.log(`  via ${describeSteps(p.path)}`);
      console.log(`  allowed by ${p.allowedBy.join('; ')}`);
    }
  });

  withInstanceOptions(
    program
      .command('can-reach')
      .description('What can this service account reach? Its roles and what they allow.')
      .requiredOption('--cluster <name>', 'cluster name')
      .requiredOption('--namespace <ns>', 'Kubernetes namespace')
      .requiredOption('--service-account <name>', 'service account name'),
  ).action(
    async (flags: JsonFlags & { cluster: string; namespace: string; serviceAccount: string }) => {
      const result = (await callJson(
        instanceProfile(flags),
        'latchkey',
        'POST',
        '/_latchkey/api/access/can-reach',
        {
          cluster: flags.cluster,
          namespace: flags.namespace,
          serviceAccount: flags.serviceAccount,
        },
      )) as unknown as CanReachJson;
      if (flags.json) {
        console.log(JSON.stringify(result));
        return;
      }
      const who = `${result.cluster} ${result.namespace}/${result.serviceAccount}`;
      if (result.paths.length === 0) {
        console.log(
          `${who} reaches no role: no association names it and no trust policy admits its token.`,
        );
        return;
      }
      for (const p of result.paths) {
        console.log(
          `${p.works ? '' : 'BROKEN  '}${describeSteps(p.steps)}  (credentials last up to ${p.maxSessionSeconds / 3600} h)`,
        );
        if (p.problem !== undefined) console.log(`  problem: ${p.problem}`);
        for (const s of p.allows) {
          console.log(
            `  allow ${s.actions.join(', ')} on ${s.resources.join(', ')}${s.conditional ? ' (with conditions)' : ''}  [${s.policy} ${s.statement}]`,
          );
        }
        for (const s of p.denies) {
          console.log(
            `  deny  ${s.actions.join(', ')} on ${s.resources.join(', ')}${s.conditional ? ' (with conditions)' : ''}  [${s.policy} ${s.statement}]`,
          );
        }
        for (const s of p.resourcePolicies ?? []) {
          console.log(
            `  bucket policy of ${s.resourceArn}: ${s.effect.toLowerCase()} ${s.actions.join(', ')} on ${s.resources.join(', ')}${s.conditional ? ' (with conditions)' : ''}${s.effect === 'Allow' && s.crossAccount ? ' (another account: the role’s own policies must allow too)' : ''}  [${s.statement}]`,
          );
        }
        if (p.permissionsBoundary !== undefined)
          console.log(`  bounded by ${p.permissionsBoundary}`);
      }
    },
  );

  withInstanceOptions(
    program
      .command('lint')
      .description(
        'Check trust policies, associations and role chains for common mistakes, each with its fix.',
      ),
  ).action(async (flags: JsonFlags) => {
    const result = (await callJson(
      instanceProfile(flags),
      'latchkey',
      'GET',
      '/_latchkey/api/access/lint',
    )) as unknown as LintJson;
    if (flags.json) {
      console.log(JSON.stringify(result.findings));
    } else if (result.findings.length === 0) {
      console.log('No findings.');
    } else {
      for (const f of result.findings) {
        console.log(`${f.severity.toUpperCase()}  ${f.rule}  ${f.subject}`);
        console.log(`  ${f.message}`);
        console.log(`  fix: ${f.fix}`);
      }
    }
    // Errors fail the command, so CI can gate on it.
    if (result.findings.some((f) => f.severity === 'error')) process.exitCode = 2;
  });
}

function describeSteps(steps: StepJson[]): string {
  return steps
    .map((s) =>
      s.via === 'irsa'
        ? `IRSA → ${s.roleArn}`
        : s.via === 'pod-identity'
          ? `pod identity (${s.associationId ?? ''}) → ${s.roleArn}`
          : `assume → ${s.roleArn}`,
    )
    .join(', then ');
}

/** How `who-can` says which trust policy decided, or that none could. */
function roleTrustLine(trust: { roleArn: string; known: boolean }): string {
  return trust.known
    ? `(decided with the trust policy of ${trust.roleArn})`
    : `(Latchkey holds no role ${trust.roleArn}: identity policies alone decided)`;
}
