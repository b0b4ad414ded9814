/**
 * The `latchkey` command. Each subcommand lives in its own module; this file only wires them
 * into commander and turns failures into exit codes.
 */
import { Command, CommanderError } from 'commander';
import { registerAccessCommands } from './access.js';
import { registerAccountCommands } from './account.js';
import { registerAgentCommand } from './agent.js';
import { registerAuditCommand } from './audit.js';
import { registerClusterCommands } from './cluster.js';
import { registerEksctlCommands } from './eksctl.js';
import { registerEnvCommand } from './env.js';
import { registerExecCommand } from './exec.js';
import { registerKeysCommands } from './keys.js';
import { registerRevokeSessionsCommand } from './revoke-sessions.js';
import { registerSealingKeysCommand } from './sealing-keys.js';
import { registerServerCommands } from './server.js';
import { registerSimulateCommand } from './simulate.js';
import { registerTokenCommand } from './token.js';
import { registerWebhookCommand } from './webhook.js';

/** Builds the command tree (exported for tests and help text). */
export function buildCli(): Command {
  const program = new Command('latchkey')
    .description(
      'A self-hosted workload identity plane for Kubernetes: IAM, STS, IRSA, EKS Pod Identity and an IAM-enforcing S3 store.',
    )
    .showHelpAfterError()
    .exitOverride();
  registerServerCommands(program);
  registerEnvCommand(program);
  registerAccountCommands(program);
  registerClusterCommands(program);
  registerKeysCommands(program);
  registerTokenCommand(program);
  registerRevokeSessionsCommand(program);
  registerSealingKeysCommand(program);
  registerAuditCommand(program);
  registerEksctlCommands(program);
  registerExecCommand(program);
  registerSimulateCommand(program);
  registerAccessCommands(program);
  registerAgentCommand(program);
  registerWebhookCommand(program);
  return program;
}

/** Runs the CLI with `argv` (as process.argv) and returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    // A command may set the exit code (exec passes on its child's).
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    console.error(`latchkey: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
