// Runs the CLI from source (tests need no build step): `node --import tsx test/helpers/latchkey.ts …`.
import { runCli } from '../../src/cli/index.js';

process.exitCode = await runCli(process.argv);
