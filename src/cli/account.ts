import type { Command } from 'commander';
import { validateAccountId } from '../iam/index.js';
import { profileName, writeProfile } from '../profiles/index.js';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

/** `latchkey account create`: adds an account with its own admin user and profile. */
export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('Manage accounts.');
  const create = account
    .command('create')
    .description('Create an account with an admin user, and write its profile latchkey-<id>.')
    .requiredOption('--account-id <id>', '12-digit account id');
  withInstanceOptions(create).action(
    async (flags: InstanceFlags & { accountId: string; json?: boolean }) => {
      validateAccountId(flags.accountId);
      const admin = instanceProfile(flags);
      const created = await callJson(admin, 'latchkey', 'POST', '/_latchkey/api/accounts', {
        accountId: flags.accountId,
      });
      const name = profileName(flags.accountId);
      writeProfile(flags.dataDir, {
        name,
        endpointUrl: admin.endpointUrl,
        region: admin.region,
        accessKeyId: String(created.accessKeyId),
        secretAccessKey: String(created.secretAccessKey),
      });
      if (flags.json) console.log(JSON.stringify({ accountId: flags.accountId, profile: name }));
      else console.log(`Account ${flags.accountId} created; its admin is profile ${name}.`);
    },
  );
}
