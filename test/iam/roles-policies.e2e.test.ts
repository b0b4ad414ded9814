/** Roles and managed policies through the SDK for JavaScript v3 and the AWS CLI. */
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  ListUsersCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  DeleteUserCommand,
  SetDefaultPolicyVersionCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAwsCli, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let iam: IAMClient;
beforeAll(async () => {
  t = await startTestServer();
  iam = new IAMClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  });
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

const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});
const s3Read = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }],
});

describe('roles', () => {
  it('CreateRole and GetRole, with the trust policy URL-encoded as IAM returns it', async () => {
    const { Role } = await iam.send(
      new CreateRoleCommand({
        RoleName: 'app',
        Path: '/svc/',
        AssumeRolePolicyDocument: trust,
        Description: 'the app',
        MaxSessionDuration: 7200,
        Tags: [{ Key: 'team', Value: 'a' }],
      }),
    );
    expect(Role?.Arn).toBe('arn:aws:iam::000000000000:role/svc/app');
    expect(Role?.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    const got = await iam.send(new GetRoleCommand({ RoleName: 'APP' }));
    expect(decodeURIComponent(got.Role?.AssumeRolePolicyDocument ?? '')).toBe(trust);
    expect(got.Role?.MaxSessionDuration).toBe(7200);
    expect(got.Role?.Description).toBe('the app');
    expect(got.Role?.Tags).toEqual([{ Key: 'team', Value: 'a' }]);
  });

  it('the AWS CLI decodes the trust policy', async () => {
    const r = await runAwsCli(['iam', 'get-role', '--role-name', 'app'], t.cliEnv());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Role.AssumeRolePolicyDocument).toEqual(JSON.parse(trust));
  });

  it('UpdateRole, UpdateAssumeRolePolicy, tags, boundary', async () => {
    await iam.send(
      new UpdateRoleCommand({ RoleName: 'app', MaxSessionDuration: 43_200, Description: 'x' }),
    );
    const newTrust = trust.replace('ec2', 'lambda');
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'app', PolicyDocument: newTrust }),
    );
    await iam.send(new TagRoleCommand({ RoleName: 'app', Tags: [{ Key: 'env', Value: 'prod' }] }));
    await iam.send(new UntagRoleCommand({ RoleName: 'app', TagKeys: ['TEAM'] }));
    expect((await iam.send(new ListRoleTagsCommand({ RoleName: 'app' }))).Tags).toEqual([
      { Key: 'env', Value: 'prod' },
    ]);
    const boundary = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
    await iam.send(
      new PutRolePermissionsBoundaryCommand({ RoleName: 'app', PermissionsBoundary: boundary }),
    );
    let role = (await iam.send(new GetRoleCommand({ RoleName: 'app' }))).Role;
    expect(role?.MaxSessionDuration).toBe(43_200);
    expect(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '')).toBe(newTrust);
    expect(role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundary);
    await iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'app' }));
    role = (await iam.send(new GetRoleCommand({ RoleName: 'app' }))).Role;
    expect(role?.PermissionsBoundary).toBeUndefined();
  });

  it('inline policies: put, get, list, delete', async () => {
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'read', PolicyDocument: s3Read }),
    );
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'app', PolicyName: 'READ' }));
    expect(decodeURIComponent(got.PolicyDocument ?? '')).toBe(s3Read);
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'app' }))).PolicyNames).toEqual([
      'read',
    ]);
    // DeleteRole refuses while a policy remains.
    expect(await errorOf(iam.send(new DeleteRoleCommand({ RoleName: 'app' })))).toMatchObject({
      name: 'DeleteConflictException',
      status: 409,
    });
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'app', PolicyName: 'read' }));
    expect(
      (await errorOf(iam.send(new GetRolePolicyCommand({ RoleName: 'app', PolicyName: 'read' }))))
        .name,
    ).toBe('NoSuchEntityException');
  });

  it('bad input: duplicate, MaxSessionDuration out of range, malformed trust, missing boundary', async () => {
    expect(
      await errorOf(
        iam.send(new CreateRoleCommand({ RoleName: 'app', AssumeRolePolicyDocument: trust })),
      ),
    ).toMatchObject({ name: 'EntityAlreadyExistsException', status: 409 });
    expect(
      await errorOf(
        iam.send(
          new CreateRoleCommand({
            RoleName: 'r2',
            AssumeRolePolicyDocument: trust,
            MaxSessionDuration: 3599,
          }),
        ),
      ),
    ).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(
      await errorOf(
        iam.send(new CreateRoleCommand({ RoleName: 'r2', AssumeRolePolicyDocument: '{nope' })),
      ),
    ).toMatchObject({ name: 'MalformedPolicyDocumentException', status: 400 });
    expect(
      await errorOf(
        iam.send(
          new CreateRoleCommand({
            RoleName: 'r2',
            AssumeRolePolicyDocument: trust,
            PermissionsBoundary: 'arn:aws:iam::000000000000:policy/none',
          }),
        ),
      ),
    ).toMatchObject({ name: 'NoSuchEntityException' });
    const roles = await iam.send(new ListRolesCommand({}));
    expect(roles.Roles?.map((r) => r.RoleName)).toEqual(['app']);
  });
});

describe('managed policies', () => {
  let arn = '';

  it('CreatePolicy, versions up to five, default switching', async () => {
    const { Policy } = await iam.send(
      new CreatePolicyCommand({ PolicyName: 'S3Read', PolicyDocument: s3Read }),
    );
    arn = Policy?.Arn ?? '';
    expect(arn).toBe('arn:aws:iam::000000000000:policy/S3Read');
    expect(Policy?.DefaultVersionId).toBe('v1');
    for (let i = 2; i <= 5; i++) {
      const v = await iam.send(
        new CreatePolicyVersionCommand({
          PolicyArn: arn,
          PolicyDocument: s3Read,
          SetAsDefault: i === 3,
        }),
      );
      expect(v.PolicyVersion?.VersionId).toBe(`v${i}`);
    }
    expect(
      await errorOf(
        iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: s3Read })),
      ),
    ).toMatchObject({ name: 'LimitExceededException', status: 409 });
    expect(
      (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId,
    ).toBe('v3');
    expect(
      await errorOf(iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' }))),
    ).toMatchObject({ name: 'DeleteConflictException' });
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }));
    for (const v of ['v1', 'v2', 'v3', 'v4']) {
      await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v }));
    }
    const versions = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsDefaultVersion])).toEqual([
      ['v5', true],
    ]);
    const doc = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }));
    expect(JSON.parse(decodeURIComponent(doc.PolicyVersion?.Document ?? ''))).toEqual(
      JSON.parse(s3Read),
    );
  });

  it('attach to a role and a user; counts; delete refused while attached', async () => {
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'app', PolicyArn: arn }));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'app',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'app' }));
    expect(attached.AttachedPolicies).toEqual([
      { PolicyName: 'S3Read', PolicyArn: arn },
      { PolicyName: 'ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
    ]);
    await iam.send(new CreateUserCommand({ UserName: 'u1' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'u1', PolicyArn: arn }));
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'u1', PolicyName: 'p', PolicyDocument: s3Read }),
    );
    expect(
      (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'u1' }))).AttachedPolicies,
    ).toHaveLength(1);
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.AttachmentCount).toBe(
      2,
    );
    expect(await errorOf(iam.send(new DeletePolicyCommand({ PolicyArn: arn })))).toMatchObject({
      name: 'DeleteConflictException',
    });
    expect((await errorOf(iam.send(new DeleteUserCommand({ UserName: 'u1' })))).name).toBe(
      'DeleteConflictException',
    );
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'app', PolicyArn: arn }));
    expect(
      (await errorOf(iam.send(new DetachRolePolicyCommand({ RoleName: 'app', PolicyArn: arn }))))
        .name,
    ).toBe('NoSuchEntityException');
    expect(
      (
        await errorOf(
          iam.send(
            new AttachRolePolicyCommand({
              RoleName: 'app',
              PolicyArn: 'arn:aws:iam::aws:policy/Nope',
            }),
          ),
        )
      ).name,
    ).toBe('NoSuchEntityException');
  });

  it('serves the bundled AWS-managed policies with their published documents', async () => {
    const ro = await iam.send(
      new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }),
    );
    expect(ro.Policy?.AttachmentCount).toBe(1);
    const version = await iam.send(
      new GetPolicyVersionCommand({
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
        VersionId: ro.Policy?.DefaultVersionId,
      }),
    );
    const doc = JSON.parse(decodeURIComponent(version.PolicyVersion?.Document ?? '')) as {
      Statement: { Action: string[] }[];
    };
    expect(doc.Statement.flatMap((s) => s.Action)).toContain('s3:Get*');
    const aws = await iam.send(new ListPoliciesCommand({ Scope: 'AWS' }));
    expect(aws.Policies?.map((p) => p.PolicyName).sort()).toEqual([
      'AdministratorAccess',
      'AmazonS3FullAccess',
      'AmazonS3ReadOnlyAccess',
      'IAMReadOnlyAccess',
      'PowerUserAccess',
      'ReadOnlyAccess',
    ]);
    const local = await iam.send(new ListPoliciesCommand({ Scope: 'Local' }));
    expect(local.Policies?.map((p) => p.PolicyName)).toEqual(['S3Read']);
    expect(
      (
        await errorOf(
          iam.send(
            new DeletePolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }),
          ),
        )
      ).name,
    ).toBe('InvalidInputException');
  });
});

describe('a store failure while reading a managed policy', () => {
  it('fails the call closed, not as the caller’s MalformedPolicyDocument, and recovers', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'lister' }));
    const created = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'list-users',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }],
        }),
      }),
    );
    await iam.send(
      new AttachUserPolicyCommand({ UserName: 'lister', PolicyArn: created.Policy!.Arn! }),
    );
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'lister' }));
    const lister = new IAMClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: {
        accessKeyId: AccessKey!.AccessKeyId!,
        secretAccessKey: AccessKey!.SecretAccessKey!,
      },
      maxAttempts: 1,
    });
    // The policy's versions cannot be read: the store fails under the loader.
    const db = t.server.store.db;
    await sql`ALTER TABLE iam_policy_versions RENAME TO iam_policy_versions_away`.execute(db);
    try {
      const err = await errorOf(lister.send(new ListUsersCommand({})));
      expect(err.name).not.toBe('MalformedPolicyDocument');
      expect(err.status).toBeGreaterThanOrEqual(500);
    } finally {
      await sql`ALTER TABLE iam_policy_versions_away RENAME TO iam_policy_versions`.execute(db);
    }
    // Past the policy-set cache's second, the same key works again.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await lister.send(new ListUsersCommand({}))).Users?.length).toBeGreaterThan(0);
  });
});
