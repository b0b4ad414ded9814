/**
 * `ADDR:PORT` listen addresses (`169.254.170.23:80`, `[fd00:ec2::23]:80`, `127.0.0.1:0`).
 */
import { AgentConfigError } from './errors.js';

/** A parsed listen address. */
export interface ListenAddress {
  /** Host without brackets, e.g. `fd00:ec2::23`. */
  host: string;
  /** Port; 0 picks a free one. */
  port: number;
}

/**
 * Parses `ADDR:PORT`; IPv6 addresses are bracketed. Throws {@link AgentConfigError}.
 *
 * @example
 * ```ts
 * parseListenAddress('[fd00:ec2::23]:80'); // { host: 'fd00:ec2::23', port: 80 }
 * ```
 */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined || port > 65_535) {
    throw new AgentConfigError(
      `invalid listen address ${JSON.stringify(value)}: expected ADDR:PORT, e.g. 127.0.0.1:2702 or [fd00:ec2::23]:80`,
    );
  }
  return { host, port };
}

/** `http://host:port` of a bound address, brackets around IPv6. */
export function formatHttpOrigin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The address to connect to for a listener bound to `host` (a wildcard is reached on loopback). */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
