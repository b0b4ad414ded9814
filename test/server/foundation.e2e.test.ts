/**
 * The foundation through real clients: the AWS SDK for JavaScript v3, the AWS CLI and boto3,
 * against a server on a real SQLite file.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAwsCli, runPython, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

function clients(credentials: { accessKeyId: string; secretAccessKey: string }) {
  const config = { endpoint: t.server.url, region: 'us-east-1', credentials, maxAttempts: 1 };
  return { sts: new STSClient(config), iam: new IAMClient(config) };
}

async function errorOf(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('SDK for JavaScript v3', () => {
  it('GetCallerIdentity with the admin profile', async () => {
    const { sts } = clients(t.admin);
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe('000000000000');
    expect(id.Arn).toBe('arn:aws:iam::000000000000:user/admin');
    expect(id.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
  });

  it('a new user’s key works; after DeleteAccessKey it fails with InvalidClientTokenId', async () => {
    const { iam } = clients(t.admin);
    const created = await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/dev/' }));
    expect(created.User?.Arn).toBe('arn:aws:iam::000000000000:user/dev/alice');
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    expect(AccessKey?.AccessKeyId).toMatch(/^AKIA/);
    const alice = clients({
      accessKeyId: AccessKey?.AccessKeyId ?? '',
      secretAccessKey: AccessKey?.SecretAccessKey ?? '',
    });
    const id = await alice.sts.send(new GetCallerIdentityCommand({}));
    expect(id.Arn).toBe('arn:aws:iam::000000000000:user/dev/alice');

    await iam.send(
      new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: AccessKey?.AccessKeyId }),
    );
    const err = await errorOf(alice.sts.send(new GetCallerIdentityCommand({})));
    expect(err).toMatchObject({
      name: 'InvalidClientTokenId',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
  });

  it('a wrong secret fails with SignatureDoesNotMatch', async () => {
    const { sts } = clients({ accessKeyId: t.admin.accessKeyId, secretAccessKey: 'x'.repeat(40) });
    const err = await errorOf(sts.send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe('SignatureDoesNotMatch');
    expect(err.status).toBe(403);
  });

  it('an Inactive key fails; reactivated it works again', async () => {
    const { iam } = clients(t.admin);
    await iam.send(new CreateUserCommand({ UserName: 'carol' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'carol' }));
    const carol = clients({
      accessKeyId: AccessKey?.AccessKeyId ?? '',
      secretAccessKey: AccessKey?.SecretAccessKey ?? '',
    });
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'carol',
        AccessKeyId: AccessKey?.AccessKeyId,
        Status: 'Inactive',
      }),
    );
    expect((await errorOf(carol.sts.send(new GetCallerIdentityCommand({})))).name).toBe(
      'InvalidClientTokenId',
    );
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'carol' }));
    expect(listed.AccessKeyMetadata?.map((k) => k.Status)).toEqual(['Inactive']);
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'carol',
        AccessKeyId: AccessKey?.AccessKeyId,
        Status: 'Active',
      }),
    );
    expect((await carol.sts.send(new GetCallerIdentityCommand({}))).Arn).toContain('user/carol');
  });

  it('a user without AdministratorAccess may not call IAM', async () => {
    const { iam } = clients(t.admin);
    await iam.send(new CreateUserCommand({ UserName: 'dave' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'dave' }));
    const dave = clients({
      accessKeyId: AccessKey?.AccessKeyId ?? '',
      secretAccessKey: AccessKey?.SecretAccessKey ?? '',
    });
    const err = await errorOf(dave.iam.send(new CreateUserCommand({ UserName: 'mallory' })));
    expect(err).toMatchObject({
      name: 'AccessDenied',
      status: 403,
      message:
        'User: arn:aws:iam::000000000000:user/dave is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::000000000000:user/mallory because no identity-based policy allows the iam:CreateUser action',
    });
    // The SDK names modelled IAM errors by their shapes: wire code NoSuchEntity → NoSuchEntityException.
    expect((await errorOf(iam.send(new GetUserCommand({ UserName: 'mallory' })))).name).toBe(
      'NoSuchEntityException',
    );
  });

  it('a duplicate user is EntityAlreadyExists (409) and nothing changes', async () => {
    const { iam } = clients(t.admin);
    const before = await iam.send(new ListUsersCommand({}));
    const err = await errorOf(iam.send(new CreateUserCommand({ UserName: 'ALICE' })));
    expect(err).toMatchObject({ name: 'EntityAlreadyExistsException', status: 409 });
    const after = await iam.send(new ListUsersCommand({}));
    expect(after.Users?.length).toBe(before.Users?.length);
  });

  it('DeleteUser is refused while keys exist, then succeeds', async () => {
    const { iam } = clients(t.admin);
    await iam.send(new CreateUserCommand({ UserName: 'erin' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'erin' }));
    const err = await errorOf(iam.send(new DeleteUserCommand({ UserName: 'erin' })));
    expect(err).toMatchObject({ name: 'DeleteConflictException', status: 409 });
    await iam.send(
      new DeleteAccessKeyCommand({ UserName: 'erin', AccessKeyId: AccessKey?.AccessKeyId }),
    );
    await iam.send(new DeleteUserCommand({ UserName: 'erin' }));
    expect((await errorOf(iam.send(new GetUserCommand({ UserName: 'erin' })))).name).toBe(
      'NoSuchEntityException',
    );
  });

  it('invalid names are ValidationError with AWS’s message', async () => {
    const { iam } = clients(t.admin);
    const err = await errorOf(iam.send(new CreateUserCommand({ UserName: 'bad name' })));
    expect(err).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(err.message).toBe(
      "1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    );
  });
});

describe('AWS CLI', () => {
  it('get-caller-identity works with only the profile files set', async () => {
    const r = await runAwsCli(['sts', 'get-caller-identity', '--output', 'json'], t.cliEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      Account: '000000000000',
      Arn: 'arn:aws:iam::000000000000:user/admin',
    });
  });

  it('creates a user and a key, and reports errors by AWS code', async () => {
    const created = await runAwsCli(['iam', 'create-user', '--user-name', 'cli-user'], t.cliEnv());
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).User.UserName).toBe('cli-user');
    const dup = await runAwsCli(['iam', 'create-user', '--user-name', 'cli-user'], t.cliEnv());
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('EntityAlreadyExists');
    const key = await runAwsCli(
      ['iam', 'create-access-key', '--user-name', 'cli-user'],
      t.cliEnv(),
    );
    expect(JSON.parse(key.stdout).AccessKey.Status).toBe('Active');
  });
});

describe('boto3', () => {
  it('GetCallerIdentity, CreateUser + CreateAccessKey, then the deleted key fails', async () => {
    const out = await runPython(
      `
import boto3, json, botocore
s = boto3.Session()
iam = s.client('iam')
ident = s.client('sts').get_caller_identity()
iam.create_user(UserName='boto-user')
k = iam.create_access_key(UserName='boto-user')['AccessKey']
other = boto3.Session(aws_access_key_id=k['AccessKeyId'], aws_secret_access_key=k['SecretAccessKey'], region_name='us-east-1')
sts2 = other.client('sts', endpoint_url=s.client('sts').meta.endpoint_url)
arn = sts2.get_caller_identity()['Arn']
iam.delete_access_key(UserName='boto-user', AccessKeyId=k['AccessKeyId'])
try:
    sts2.get_caller_identity()
    code = None
except botocore.exceptions.ClientError as e:
    code = e.response['Error']['Code']
print(json.dumps({'admin': ident['Arn'], 'user': arn, 'after_delete': code}))
`,
      t.cliEnv(),
    );
    expect(JSON.parse(out)).toEqual({
      admin: 'arn:aws:iam::000000000000:user/admin',
      user: 'arn:aws:iam::000000000000:user/boto-user',
      after_delete: 'InvalidClientTokenId',
    });
  });
});
