import { InvalidArgumentError } from 'commander';

/** The default data directory of every command. */
export const DEFAULT_DATA_DIR = './.latchkey';

/** Parses a TCP port (0 picks a free one). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65535) {
    throw new InvalidArgumentError('a port is a number from 0 to 65535');
  }
  return port;
}
