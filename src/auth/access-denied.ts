import type { Principal } from './principal.js';

/**
 * AWS's AccessDenied message for a call no identity-based policy allows, e.g.
 * "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: iam:CreateUser on
 * resource: arn:aws:iam::000000000000:user/x because no identity-based policy allows the
 * iam:CreateUser action".
 */
export function accessDeniedMessage(
  principal: Principal,
  action: string,
  resource: string,
): string {
  return (
    `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource} ` +
    `because no identity-based policy allows the ${action} action`
  );
}
