import type { Command } from 'commander';
import { DEFAULT_PROFILE } from '../profiles/index.js';
import { DEFAULT_DATA_DIR } from './options.js';

/** Adds the flags of every command that talks to a running instance. */
export function withInstanceOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data directory holding the AWS CLI profile', DEFAULT_DATA_DIR)
    .option('--profile <name>', 'profile to call with', DEFAULT_PROFILE)
    .option('--endpoint <url>', 'server endpoint (default: the profile’s endpoint_url)')
    .option('--json', 'print machine-readable JSON');
}
