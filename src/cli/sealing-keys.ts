import type { Command } from 'commander';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

/**
 * `latchkey sealing-keys rotate`: session tokens are sealed with a new key from now on, on every
 * replica; tokens sealed with the previous keys keep working until they expire (12 h at most).
 */
export function registerSealingKeysCommand(program: Command): void {
  const keys = program
    .command('sealing-keys')
    .description('The keys session tokens (ASIA… credentials) are sealed with.');
  withInstanceOptions(
    keys
      .command('rotate')
      .description(
        'Seal new session tokens with a new key, on every replica; older tokens keep working until they expire.',
      ),
  ).action(async (flags: InstanceFlags & { json?: boolean }) => {
    const result = await callJson(
      instanceProfile(flags),
      'latchkey',
      'POST',
      '/_latchkey/api/sealing-keys/rotate',
      {},
    );
    if (flags.json) console.log(JSON.stringify(result));
    else
      console.log(
        `Session tokens are now sealed with key ${String(result.keyId)}; tokens sealed before ` +
          `keep opening until ${String(result.previousKeysValidUntil)}.`,
      );
  });
}
