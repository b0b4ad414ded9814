import type { Command } from 'commander';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

/** `latchkey revoke-sessions --role ARN`: every session of the role issued before now fails at once. */
export function registerRevokeSessionsCommand(program: Command): void {
  withInstanceOptions(
    program
      .command('revoke-sessions')
      .description(
        'Make every session of a role issued before now fail at once (beyond AWS, which cannot).',
      )
      .requiredOption('--role <arn>', 'role ARN'),
  ).action(async (flags: InstanceFlags & { role: string; json?: boolean }) => {
    const result = await callJson(
      instanceProfile(flags),
      'latchkey',
      'POST',
      '/_latchkey/api/session-revocations',
      {
        roleArn: flags.role,
      },
    );
    if (flags.json) console.log(JSON.stringify(result));
    else
      console.log(
        `Sessions of ${flags.role} issued before ${String(result.revokedBefore)} are revoked.`,
      );
  });
}
