/** STS's Query API. GetCallerIdentity needs no permission, as in AWS. */
import type { QueryService } from '../protocol/index.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Builds the STS Query service. */
export function createStsQueryService(): QueryService {
  return {
    signingName: 'sts',
    namespace: STS_NAMESPACE,
    actions: {
      async GetCallerIdentity({ principal }) {
        return { UserId: principal.principalId, Account: principal.accountId, Arn: principal.arn };
      },
    },
  };
}
