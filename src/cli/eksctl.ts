/**
 * eksctl-style shortcuts: the IAM plumbing of IRSA and Pod Identity in one command each.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Profile } from '../profiles/index.js';
import { callJson, callQuery, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

type Flags = InstanceFlags & { json?: boolean };

/** The issuer of a cluster and the IAM provider that trusts it. */
async function clusterIssuer(
  profile: Profile,
  cluster: string,
): Promise<{ issuer: string; providerUrl: string; account: string }> {
  const described = await callJson(
    profile,
    'eks',
    'GET',
    `/clusters/${encodeURIComponent(cluster)}`,
  );
  const c = described.cluster as { arn: string; identity: { oidc: { issuer: string } } };
  const issuer = c.identity.oidc.issuer;
  return {
    issuer,
    providerUrl: issuer.replace(/^https?:\/\//, ''),
    account: c.arn.split(':')[4] ?? '',
  };
}

/** Registers a cluster's issuer as an IAM OIDC provider (idempotent); returns its ARN. */
export async function associateOidcProvider(profile: Profile, cluster: string): Promise<string> {
  const { issuer, providerUrl, account } = await clusterIssuer(profile, cluster);
  const arn = `arn:aws:iam::${account}:oidc-provider/${providerUrl}`;
  try {
    await callQuery(profile, 'iam', 'CreateOpenIDConnectProvider', {
      Url: issuer,
      'ClientIDList.member.1': 'sts.amazonaws.com',
    });
  } catch (err) {
    if (!String(err).startsWith('Error: EntityAlreadyExists')) throw err;
  }
  return arn;
}

/** The trust policy IRSA needs: this cluster's provider, this service account, audience sts. */
export function irsaTrustPolicy(
  providerArn: string,
  providerUrl: string,
  namespace: string,
  name: string,
): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${providerUrl}:sub`]: `system:serviceaccount:${namespace}:${name}`,
            [`${providerUrl}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  });
}

/** The trust policy Pod Identity needs: the EKS service, AssumeRole and TagSession. */
export const POD_IDENTITY_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    },
  ],
});

/** Creates a role (or reuses one of that name) and attaches policies. */
async function ensureRole(
  profile: Profile,
  roleName: string,
  trust: string,
  policyArns: string[],
): Promise<string> {
  let arn: string;
  try {
    const created = await callQuery(profile, 'iam', 'CreateRole', {
      RoleName: roleName,
      AssumeRolePolicyDocument: trust,
    });
    arn = String((created.Role as { Arn: string }).Arn);
  } catch (err) {
    if (!String(err).startsWith('Error: EntityAlreadyExists')) throw err;
    await callQuery(profile, 'iam', 'UpdateAssumeRolePolicy', {
      RoleName: roleName,
      PolicyDocument: trust,
    });
    const got = await callQuery(profile, 'iam', 'GetRole', { RoleName: roleName });
    arn = String((got.Role as { Arn: string }).Arn);
  }
  for (const policyArn of policyArns)
    await callQuery(profile, 'iam', 'AttachRolePolicy', {
      RoleName: roleName,
      PolicyArn: policyArn,
    });
  return arn;
}

function defaultRoleName(cluster: string, namespace: string, name: string): string {
  return `latchkey-${cluster}-${namespace}-${name}`.slice(0, 64);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `latchkey utils …` and `latchkey create …`. */
export function registerEksctlCommands(program: Command): void {
  const utils = program.command('utils').description('eksctl-style utilities.');
  withInstanceOptions(
    utils
      .command('associate-iam-oidc-provider')
      .description(
        'Register a cluster’s OIDC issuer as an IAM OIDC provider (audience sts.amazonaws.com).',
      )
      .requiredOption('--cluster <name>', 'cluster')
      .option('--approve', 'accepted for eksctl compatibility (changes are always applied)'),
  ).action(async (flags: Flags & { cluster: string }) => {
    const arn = await associateOidcProvider(instanceProfile(flags), flags.cluster);
    console.log(
      flags.json
        ? JSON.stringify({ providerArn: arn })
        : `IAM OIDC provider ${arn} is associated with cluster ${flags.cluster}.`,
    );
  });

  const create = program.command('create').description('eksctl-style creation of IAM plumbing.');
  withInstanceOptions(
    create
      .command('iamserviceaccount')
      .description(
        'Create a role a service account can assume through IRSA, and record the service account.',
      )
      .requiredOption('--cluster <name>', 'cluster')
      .requiredOption('--namespace <ns>', 'namespace')
      .requiredOption('--name <sa>', 'service account')
      .option('--attach-policy-arn <arn>', 'policy to attach (repeatable)', collect, [])
      .option('--role-name <name>', 'role name (default latchkey-CLUSTER-NS-SA)')
      .option('--output <format>', 'yaml: print the ServiceAccount manifest for kubectl')
      .option('--approve', 'accepted for eksctl compatibility (changes are always applied)'),
  ).action(
    async (
      flags: Flags & {
        cluster: string;
        namespace: string;
        name: string;
        attachPolicyArn: string[];
        roleName?: string;
        output?: string;
      },
    ) => {
      const profile = instanceProfile(flags);
      const providerArn = await associateOidcProvider(profile, flags.cluster);
      const { providerUrl } = await clusterIssuer(profile, flags.cluster);
      const roleName =
        flags.roleName ?? defaultRoleName(flags.cluster, flags.namespace, flags.name);
      const trust = irsaTrustPolicy(providerArn, providerUrl, flags.namespace, flags.name);
      const roleArn = await ensureRole(profile, roleName, trust, flags.attachPolicyArn);
      const annotations = { 'eks.amazonaws.com/role-arn': roleArn };
      await callJson(
        profile,
        'latchkey',
        'PUT',
        `/_latchkey/api/clusters/${encodeURIComponent(flags.cluster)}/service-accounts/${flags.namespace}/${flags.name}`,
        { annotations },
      );
      if (flags.output === 'yaml') {
        console.log(
          stringify({
            apiVersion: 'v1',
            kind: 'ServiceAccount',
            metadata: { name: flags.name, namespace: flags.namespace, annotations },
          }).trimEnd(),
        );
      } else if (flags.json) {
        console.log(
          JSON.stringify({ roleArn, serviceAccount: `${flags.namespace}/${flags.name}` }),
        );
      } else {
        console.log(
          `Service account ${flags.namespace}/${flags.name} of cluster ${flags.cluster} assumes ${roleArn}.`,
        );
      }
    },
  );

  withInstanceOptions(
    create
      .command('podidentityassociation')
      .description(
        'Create a role that trusts EKS Pod Identity and associate a service account with it.',
      )
      .requiredOption('--cluster <name>', 'cluster')
      .requiredOption('--namespace <ns>', 'namespace')
      .requiredOption('--service-account-name <sa>', 'service account')
      .option('--role-arn <arn>', 'use this existing role instead of creating one')
      .option('--role-name <name>', 'name of the role to create (default latchkey-CLUSTER-NS-SA)')
      .option(
        '--permission-policy-arns <arn>',
        'policy to attach to the created role (repeatable)',
        collect,
        [],
      )
      .option('--target-role-arn <arn>', 'chain into this role (e.g. in another account)')
      .option('--disable-session-tags', 'do not add the pod’s session tags'),
  ).action(
    async (
      flags: Flags & {
        cluster: string;
        namespace: string;
        serviceAccountName: string;
        roleArn?: string;
        roleName?: string;
        permissionPolicyArns: string[];
        targetRoleArn?: string;
        disableSessionTags?: boolean;
      },
    ) => {
      const profile = instanceProfile(flags);
      const roleArn =
        flags.roleArn ??
        (await ensureRole(
          profile,
          flags.roleName ??
            defaultRoleName(flags.cluster, flags.namespace, flags.serviceAccountName),
          POD_IDENTITY_TRUST_POLICY,
          flags.permissionPolicyArns,
        ));
      const result = await callJson(
        profile,
        'eks',
        'POST',
        `/clusters/${encodeURIComponent(flags.cluster)}/pod-identity-associations`,
        {
          namespace: flags.namespace,
          serviceAccount: flags.serviceAccountName,
          roleArn,
          ...(flags.targetRoleArn ? { targetRoleArn: flags.targetRoleArn } : {}),
          ...(flags.disableSessionTags ? { disableSessionTags: true } : {}),
        },
      );
      const association = result.association as { associationId: string; externalId?: string };
      if (flags.json) console.log(JSON.stringify(result.association));
      else {
        console.log(
          `Association ${association.associationId}: ${flags.namespace}/${flags.serviceAccountName} → ${roleArn}`,
        );
        if (association.externalId)
          console.log(`Target role trust: require sts:ExternalId = ${association.externalId}`);
      }
    },
  );
}
