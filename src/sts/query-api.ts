/** STS's Query API. GetCallerIdentity needs no permission, as in AWS. */
import type { QueryService } from '../protocol/index.js';
import { assumeRole, type AssumeRoleDeps } from './assume-role.js';
import {
  assumeRoleWithWebIdentity,
  type WebIdentityDeps,
} from './assume-role-with-web-identity.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** What the STS operations work on. */
export type StsDeps = AssumeRoleDeps & WebIdentityDeps;

/** Builds the STS Query service. */
export function createStsQueryService(deps: StsDeps): QueryService {
  return {
    signingName: 'sts',
    namespace: STS_NAMESPACE,
    actions: {
      async GetCallerIdentity({ principal }) {
        return { UserId: principal.principalId, Account: principal.accountId, Arn: principal.arn };
      },
      AssumeRole: (call) => assumeRole(deps, call),
    },
    anonymousActions: {
      AssumeRoleWithWebIdentity: (call) => assumeRoleWithWebIdentity(deps, call),
    },
  };
}
