import type { Command } from 'commander';
import { validateAccountId } from '../iam/index.js';
import { DEFAULT_PROFILE, profileName, readProfile, writeProfile } from '../profiles/index.js';
import { DEFAULT_DATA_DIR } from './options.js';
import { signedJsonRequest } from './signed-fetch.js';

interface AccountCreateFlags {
  accountId: string;
  dataDir: string;
  profile: string;
  endpoint?: string;
  json?: boolean;
}

/** `latchkey account create`: adds an account with its own admin user and profile. */
export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('Manage accounts.');
  account
    .command('create')
    .description('Create an account with an admin user, and write its profile latchkey-<id>.')
    .requiredOption('--account-id <id>', '12-digit account id')
    .option('--data-dir <dir>', 'data directory whose profile to use and extend', DEFAULT_DATA_DIR)
    .option('--profile <name>', 'admin profile of the first account to call with', DEFAULT_PROFILE)
    .option('--endpoint <url>', 'server endpoint (default: the profile’s endpoint_url)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: AccountCreateFlags) => {
      validateAccountId(flags.accountId);
      const admin = readProfile(flags.dataDir, flags.profile);
      if (admin === undefined) {
        throw new Error(
          `no profile ${flags.profile} in ${flags.dataDir}/aws; start the server first (latchkey up)`,
        );
      }
      if (flags.endpoint !== undefined) admin.endpointUrl = flags.endpoint;
      const { status, json } = await signedJsonRequest(admin, 'POST', '/_latchkey/api/accounts', {
        accountId: flags.accountId,
      }).catch((err: unknown) => {
        throw new Error(`no Latchkey server answers at ${admin.endpointUrl} (${String(err)})`);
      });
      if (status !== 201) {
        throw new Error(`${String(json.__type ?? status)}: ${String(json.message ?? '')}`);
      }
      const name = profileName(flags.accountId);
      writeProfile(flags.dataDir, {
        name,
        endpointUrl: admin.endpointUrl,
        region: admin.region,
        accessKeyId: String(json.accessKeyId),
        secretAccessKey: String(json.secretAccessKey),
      });
      if (flags.json) console.log(JSON.stringify({ accountId: flags.accountId, profile: name }));
      else console.log(`Account ${flags.accountId} created; its admin is profile ${name}.`);
    });
}
