import { accessDeniedMessage, type Authorizer, type Principal } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { UserDirectory } from './users.js';

/** The AWS-managed policy that makes a user an account administrator. */
export const ADMINISTRATOR_ACCESS_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';

/**
 * Until the policy engine decides every call, only account administrators (users with
 * AdministratorAccess attached) may call IAM. Same interface as the engine's authorizer, so
 * swapping it changes no handler.
 */
export function createAdministratorAuthorizer(users: UserDirectory): Authorizer {
  return {
    async authorize(principal: Principal, request) {
      if (principal.type === 'IAMUser' && principal.userName !== undefined) {
        const arns = await users.attachedPolicyArns(principal.accountId, principal.userName);
        if (arns.includes(ADMINISTRATOR_ACCESS_ARN)) return;
      }
      throw new AwsError(
        'AccessDenied',
        accessDeniedMessage(principal, request.action, request.resource),
      );
    },
  };
}
