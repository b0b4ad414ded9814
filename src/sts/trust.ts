import type { Principal } from '../auth/index.js';
import type { IamRole } from '../iam/index.js';

/** Who asks to assume a role, as a trust policy's `Principal` element sees them. */
export type TrustPrincipal =
  | { kind: 'aws'; principal: Principal }
  | { kind: 'federated'; providerArn: string }
  | { kind: 'service'; service: string; sourceAccount?: string };

/** One question to a role's trust policy. */
export interface TrustRequest {
  role: IamRole;
  /** `sts:AssumeRole`, `sts:AssumeRoleWithWebIdentity`, `sts:TagSession`, `sts:SetSourceIdentity`. */
  action: string;
  principal: TrustPrincipal;
  /** Condition keys of the request (e.g. `<issuer>:sub`, `sts:ExternalId`, `aws:RequestTag/…`). */
  context: Readonly<Record<string, string | string[]>>;
}

/**
 * Decides a trust question. Resolves when the role may be assumed; throws AwsError
 * AccessDenied (with the decision in its explanation) when not. For `kind: 'aws'` callers
 * this also applies the caller's own identity policies, as AWS's evaluation logic does.
 */
export type TrustEvaluator = (request: TrustRequest) => Promise<void>;
