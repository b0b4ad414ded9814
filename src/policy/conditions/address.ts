/**
 * `IpAddress` / `NotIpAddress`: whether the key's address lies in one of the policy's ranges.
 * Policy variables are not allowed.
 */
import { inCidr, parseCidr, parseIp } from './ip.js';
import type { ValueSetMatcher } from './matcher.js';

/** Compiles the IP operators' policy values. */
export function ipMatcher(values: readonly string[]): ValueSetMatcher {
  const ranges = values.map(parseCidr);
  return (requestValue) => {
    const ip = parseIp(requestValue);
    if (ip === undefined) return undefined;
    let invalid = false;
    for (const r of ranges) {
      if (r === undefined) invalid = true;
      else if (inCidr(ip, r)) return true;
    }
    return invalid ? undefined : false;
  };
}
