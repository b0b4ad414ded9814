/** IAM OIDC providers through the SDK for JavaScript v3 and the AWS CLI. */
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  IAMClient,
  ListOpenIDConnectProviderTagsCommand,
  ListOpenIDConnectProvidersCommand,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  TagOpenIDConnectProviderCommand,
  UntagOpenIDConnectProviderCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
} from '@aws-sdk/client-iam';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAwsCli, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let iam: IAMClient;
let ownIssuer: string;
beforeAll(async () => {
  t = await startTestServer();
  const config = {
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  };
  iam = new IAMClient(config);
  const { cluster } = await new EKSClient(config).send(
    new CreateClusterCommand({
      name: 'c1',
      roleArn: 'arn:aws:iam::000000000000:role/eks',
      resourcesVpcConfig: {},
    }),
  );
  ownIssuer = cluster?.identity?.oidc?.issuer ?? '';
});
afterAll(async () => {
  await t.stop();
});

async function errorOf(
  p: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected failure');
}

const EXTERNAL = 'https://oidc.eks.us-west-2.amazonaws.com/id/D43CF17C0C0E8BD0B2D3C4AD9B3C2F1A';
const THUMB = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';

describe('IAM OIDC providers', () => {
  it('registers a cluster issuer served by Latchkey (plain http allowed for its own)', async () => {
    const { OpenIDConnectProviderArn } = await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: ownIssuer,
        ClientIDList: ['sts.amazonaws.com'],
      }),
    );
    expect(OpenIDConnectProviderArn).toBe(
      `arn:aws:iam::000000000000:oidc-provider/${ownIssuer.replace(/^http:\/\//, '')}`,
    );
    const got = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn }));
    expect(got.Url).toBe(ownIssuer.replace(/^http:\/\//, ''));
    expect(got.ClientIDList).toEqual(['sts.amazonaws.com']);
    expect(got.ThumbprintList).toEqual([]);
  });

  it('registers an external https issuer with thumbprints and tags, and manages it', async () => {
    const { OpenIDConnectProviderArn: arn } = await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: EXTERNAL,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: [THUMB],
        Tags: [{ Key: 'env', Value: 'prod' }],
      }),
    );
    expect(arn).toBe(`arn:aws:iam::000000000000:oidc-provider/${EXTERNAL.slice(8)}`);
    await iam.send(
      new AddClientIDToOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: arn,
        ClientID: 'other',
      }),
    );
    await iam.send(
      new RemoveClientIDFromOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: arn,
        ClientID: 'sts.amazonaws.com',
      }),
    );
    await iam.send(
      new UpdateOpenIDConnectProviderThumbprintCommand({
        OpenIDConnectProviderArn: arn,
        ThumbprintList: ['A'.repeat(40)],
      }),
    );
    await iam.send(
      new TagOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: arn,
        Tags: [{ Key: 'team', Value: 'x' }],
      }),
    );
    await iam.send(
      new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, TagKeys: ['ENV'] }),
    );
    const got = await iam.send(
      new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
    );
    expect(got.ClientIDList).toEqual(['other']);
    expect(got.ThumbprintList).toEqual(['a'.repeat(40)]);
    const tags = await iam.send(
      new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: arn }),
    );
    expect(tags.Tags).toEqual([{ Key: 'team', Value: 'x' }]);
    const list = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(list.OpenIDConnectProviderList?.map((p) => p.Arn)).toContain(arn);
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(
      await errorOf(
        iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
      ),
    ).toMatchObject({ name: 'NoSuchEntityException', status: 404 });
  });

  it('refuses bad input with IAM’s errors, storing nothing', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'http (not ours)',
        { Url: 'http://example.com/issuer', ClientIDList: ['a'] },
        'InvalidInputException',
      ],
      [
        'query string',
        { Url: 'https://example.com/issuer?x=1', ClientIDList: ['a'] },
        'InvalidInputException',
      ],
      [
        'port',
        { Url: 'https://example.com:8443/issuer', ClientIDList: ['a'] },
        'InvalidInputException',
      ],
      ['not a URL', { Url: 'https://', ClientIDList: ['a'] }, 'InvalidInputException'],
      ['thumbprint', { Url: 'https://example.com/i', ThumbprintList: ['abc'] }, 'ValidationError'],
      [
        '6 thumbprints',
        { Url: 'https://example.com/i', ThumbprintList: Array(6).fill(THUMB) },
        'LimitExceededException',
      ],
      [
        'aws: tag',
        { Url: 'https://example.com/i', Tags: [{ Key: 'aws:x', Value: 'y' }] },
        'InvalidInputException',
      ],
    ];
    for (const [label, input, name] of cases) {
      const err = await errorOf(iam.send(new CreateOpenIDConnectProviderCommand(input as never)));
      expect(err.name, label).toBe(name);
    }
    const dup = await errorOf(
      iam.send(new CreateOpenIDConnectProviderCommand({ Url: ownIssuer, ClientIDList: ['x'] })),
    );
    expect(dup).toMatchObject({ name: 'EntityAlreadyExistsException', status: 409 });
    const list = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(list.OpenIDConnectProviderList).toHaveLength(1);
  });

  it('another account’s provider ARN is not found', async () => {
    const err = await errorOf(
      iam.send(
        new GetOpenIDConnectProviderCommand({
          OpenIDConnectProviderArn: 'arn:aws:iam::111122223333:oidc-provider/example.com/i',
        }),
      ),
    );
    expect(err.name).toBe('NoSuchEntityException');
  });

  it('the AWS CLI lists providers', async () => {
    const r = await runAwsCli(['iam', 'list-open-id-connect-providers'], t.cliEnv());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).OpenIDConnectProviderList).toHaveLength(1);
  });
});
