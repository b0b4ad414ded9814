import type { Command } from 'commander';
import { callJson, callQuery, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

type Flags = InstanceFlags & { json?: boolean };

/** `latchkey cluster create|list|delete`: EKS clusters, each with its own OIDC issuer. */
export function registerClusterCommands(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('Manage clusters (EKS CreateCluster and friends).');

  withInstanceOptions(
    cluster
      .command('create')
      .description('Create a cluster; it gets an OIDC issuer served by Latchkey.')
      .argument('<name>', 'cluster name')
      .option(
        '--role-arn <arn>',
        'cluster role (default: role/eks-cluster-role in the caller’s account)',
      )
      .option('--kubernetes-version <v>', 'Kubernetes version'),
  ).action(
    async (name: string, flags: Flags & { roleArn?: string; kubernetesVersion?: string }) => {
      const profile = instanceProfile(flags);
      const account = String((await callQuery(profile, 'sts', 'GetCallerIdentity')).Account);
      const result = await callJson(profile, 'eks', 'POST', '/clusters', {
        name,
        roleArn: flags.roleArn ?? `arn:aws:iam::${account}:role/eks-cluster-role`,
        resourcesVpcConfig: {},
        ...(flags.kubernetesVersion ? { version: flags.kubernetesVersion } : {}),
      });
      const created = result.cluster as { arn: string; identity: { oidc: { issuer: string } } };
      if (flags.json) console.log(JSON.stringify(result.cluster));
      else
        console.log(
          `Cluster ${name} created: ${created.arn}\nOIDC issuer: ${created.identity.oidc.issuer}`,
        );
    },
  );

  withInstanceOptions(cluster.command('list').description('List clusters.')).action(
    async (flags: Flags) => {
      const result = await callJson(instanceProfile(flags), 'eks', 'GET', '/clusters');
      const names = result.clusters as string[];
      console.log(flags.json ? JSON.stringify(names) : names.join('\n'));
    },
  );

  withInstanceOptions(
    cluster
      .command('delete')
      .description('Delete a cluster and its issuer.')
      .argument('<name>', 'cluster name'),
  ).action(async (name: string, flags: Flags) => {
    await callJson(
      instanceProfile(flags),
      'eks',
      'DELETE',
      `/clusters/${encodeURIComponent(name)}`,
    );
    if (!flags.json) console.log(`Cluster ${name} deleted.`);
  });
}
