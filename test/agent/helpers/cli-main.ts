/**
 * `latchkey agent` as a process, until the lead wires `registerAgentCommand` into the `latchkey`
 * command: the same commander setup and exit-code handling as `src/cli/index.ts`.
 */
import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from '../../../src/cli/agent.js';

const program = new Command('latchkey').exitOverride();
registerAgentCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode;
  else {
    console.error(`latchkey: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
