import type { Command } from 'commander';
import { DEFAULT_PROFILE, profileExports } from '../profiles/index.js';
import { DEFAULT_DATA_DIR } from './options.js';

/** `latchkey env`: the exports that point the AWS CLI and SDKs at a data directory's profile. */
export function registerEnvCommand(program: Command): void {
  program
    .command('env')
    .description(
      'Print the exports that make the AWS CLI and SDKs use Latchkey (eval "$(latchkey env)").',
    )
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option('--profile <name>', 'profile to select', DEFAULT_PROFILE)
    .action((flags: { dataDir: string; profile: string }) => {
      console.log(profileExports(flags.dataDir, flags.profile));
    });
}
