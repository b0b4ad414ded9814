import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import type { Profile } from '../../src/profiles/index.js';

/** A cluster with its issuer registered as an IAM OIDC provider, as eksctl sets it up. */
export async function createClusterWithProvider(
  url: string,
  admin: Profile,
  name: string,
  clientIds = ['sts.amazonaws.com'],
): Promise<{ issuer: string; providerArn: string; providerUrl: string }> {
  const config = { endpoint: url, region: 'us-east-1', credentials: admin, maxAttempts: 1 };
  const { cluster } = await new EKSClient(config).send(
    new CreateClusterCommand({
      name,
      roleArn: 'arn:aws:iam::000000000000:role/eks',
      resourcesVpcConfig: {},
    }),
  );
  const issuer = cluster?.identity?.oidc?.issuer ?? '';
  const { OpenIDConnectProviderArn } = await new IAMClient(config).send(
    new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: clientIds }),
  );
  return {
    issuer,
    providerArn: OpenIDConnectProviderArn ?? '',
    providerUrl: issuer.replace(/^https?:\/\//, ''),
  };
}

/** A role whose trust policy lets one service account of a cluster assume it (IRSA). */
export async function createIrsaRole(
  url: string,
  admin: Profile,
  roleName: string,
  provider: { providerArn: string; providerUrl: string },
  subject: string,
): Promise<string> {
  const trust = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: provider.providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${provider.providerUrl}:sub`]: subject,
            [`${provider.providerUrl}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
  const { Role } = await new IAMClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: admin,
    maxAttempts: 1,
  }).send(
    new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trust) }),
  );
  return Role?.Arn ?? '';
}

/** Mints a projected service-account token from the server. */
export async function mintToken(
  admin: Profile,
  cluster: string,
  body: {
    namespace: string;
    serviceAccount: string;
    audience?: string;
    expirationSeconds?: number;
  },
): Promise<string> {
  const r = await signedJsonRequest(
    admin,
    'POST',
    `/_latchkey/api/clusters/${cluster}/service-account-token`,
    body,
  );
  if (r.status !== 200) throw new Error(`token: ${JSON.stringify(r.json)}`);
  return String(r.json.token);
}
