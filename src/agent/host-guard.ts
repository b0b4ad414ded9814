/**
 * The Host check (a DNS-rebinding guard): the agent answers only when the request was addressed
 * to one of its own addresses, read from the `Host` header the way upstream's
 * `validateRequestTargetHost` (`internal/validation/request.go`) reads Go's `req.Host`.
 */
import { AgentRequestError } from './errors.js';

/** The addresses the real agent serves on (upstream `configuration/config.go`). */
export const AGENT_HOSTS: readonly string[] = ['169.254.170.23', 'fd00:ec2::23'];

/** Loopback names accepted with `--local`, for a laptop or CI runner. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '::1'];

/**
 * The host part of a `Host` value as upstream compares it: a `host:port` form that Go's
 * `net.SplitHostPort` accepts loses its port, then one pair of enclosing brackets is dropped.
 * Everything else is compared as sent (no case folding, no DNS).
 *
 * @example
 * ```ts
 * requestTargetHost('[fd00:ec2::23]:80'); // 'fd00:ec2::23'
 * requestTargetHost('[fd00:ec2::23]'); // 'fd00:ec2::23'
 * requestTargetHost('169.254.170.23'); // '169.254.170.23'
 * ```
 */
export function requestTargetHost(host: string): string {
  const split = splitHostPort(host);
  let target = split ?? host;
  if (target.length > 1 && target.startsWith('[') && target.endsWith(']')) {
    target = target.slice(1, -1);
  }
  return target;
}

/** The host of `host:port` by Go's `net.SplitHostPort` rules, or undefined where Go fails. */
function splitHostPort(hostport: string): string | undefined {
  const lastColon = hostport.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  let host: string;
  let hostStart = 0;
  let portSearchStart = 0;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    // Go accepts a bracketed host only when "]:" ends it and the port follows the last colon.
    if (end < 0 || end + 1 !== lastColon) return undefined;
    host = hostport.slice(1, end);
    hostStart = 1;
    portSearchStart = end + 1;
  } else {
    host = hostport.slice(0, lastColon);
    if (host.includes(':')) return undefined;
  }
  if (hostport.indexOf('[', hostStart) >= 0) return undefined;
  if (hostport.indexOf(']', portSearchStart) >= 0) return undefined;
  return host;
}

/** Accepts or refuses a request's Host value. */
export class HostGuard {
  readonly #allowed: ReadonlySet<string>;
  readonly #listing: string;

  /** @param allowed the hosts accepted, without ports or brackets. */
  constructor(allowed: readonly string[]) {
    this.#allowed = new Set(allowed);
    // Go's %s of a []string: "[a b c]".
    this.#listing = `[${allowed.join(' ')}]`;
  }

  /** True when a request with this Host value may be answered. */
  allows(host: string): boolean {
    return this.#allowed.has(requestTargetHost(host));
  }

  /**
   * Throws upstream's 403 (`Access Denied. Called agent through invalid address, …`) unless the
   * Host is allowed.
   */
  check(host: string): void {
    const target = requestTargetHost(host);
    if (this.#allowed.has(target)) return;
    throw new AgentRequestError(
      403,
      `Access Denied. Called agent through invalid address, please use either ${this.#listing} address not ${target}`,
    );
  }
}
