/** Policy simulation through the SDK, the AWS CLI and `latchkey simulate`. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
  SimulateCustomPolicyCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAwsCli, startTestServer, type TestServer } from '../helpers/server.js';

const exec = promisify(execFile);
let t: TestServer;
let iam: IAMClient;
const alice = 'arn:aws:iam::000000000000:user/alice';

beforeAll(async () => {
  t = await startTestServer();
  iam = new IAMClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  });
  await iam.send(new CreateUserCommand({ UserName: 'alice' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'alice',
      PolicyName: 'reports',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Read',
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::reports/*',
          },
          {
            Sid: 'OfficeOnly',
            Effect: 'Deny',
            Action: 's3:*',
            Resource: '*',
            Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
          },
        ],
      }),
    }),
  );
});
afterAll(async () => {
  await t.stop();
});

describe('SimulatePrincipalPolicy', () => {
  it('answers allowed, explicitDeny and implicitDeny with the matched statements', async () => {
    const run = (resource: string, ip: string) =>
      iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: alice,
          ActionNames: ['s3:GetObject'],
          ResourceArns: [resource],
          ContextEntries: [
            { ContextKeyName: 'aws:SourceIp', ContextKeyValues: [ip], ContextKeyType: 'ip' },
          ],
        }),
      );
    const allowed = (await run('arn:aws:s3:::reports/q1.csv', '10.1.2.3')).EvaluationResults?.[0];
    expect(allowed).toMatchObject({ EvalDecision: 'allowed', EvalActionName: 's3:GetObject' });
    expect(allowed?.MatchedStatements?.[0]?.SourcePolicyId).toBe('user/alice/inline/reports#Read');
    expect(allowed?.MatchedStatements?.[0]?.SourcePolicyType).toBe('user');
    const denied = (await run('arn:aws:s3:::reports/q1.csv', '203.0.113.9')).EvaluationResults?.[0];
    expect(denied).toMatchObject({ EvalDecision: 'explicitDeny' });
    expect(denied?.MatchedStatements?.[0]?.SourcePolicyId).toBe(
      'user/alice/inline/reports#OfficeOnly',
    );
    const other = (await run('arn:aws:s3:::secrets/x', '10.1.2.3')).EvaluationResults?.[0];
    expect(other).toMatchObject({ EvalDecision: 'implicitDeny', MatchedStatements: [] });
  });

  it('names the context keys the policies needed but were not given', async () => {
    const r = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: alice,
        ActionNames: ['s3:GetObject'],
        ResourceArns: ['arn:aws:s3:::reports/a'],
      }),
    );
    expect(r.EvaluationResults?.[0]?.MissingContextValues).toContain('aws:SourceIp');
  });

  it('SimulateCustomPolicy decides only the given policies', async () => {
    const r = await iam.send(
      new SimulateCustomPolicyCommand({
        PolicyInputList: [
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'iam:Get*', Resource: '*' }],
          }),
        ],
        ActionNames: ['iam:GetRole', 'iam:CreateRole'],
      }),
    );
    expect(r.EvaluationResults?.map((e) => [e.EvalActionName, e.EvalDecision])).toEqual([
      ['iam:GetRole', 'allowed'],
      ['iam:CreateRole', 'implicitDeny'],
    ]);
  });

  it('matched statements carry their positions; results page by MaxItems and Marker', async () => {
    const document = JSON.stringify(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iam:Get*', Resource: '*' },
          { Effect: 'Deny', Action: 'iam:GetUser', Resource: '*' },
        ],
      },
      null,
      2,
    );
    const run = (Marker?: string) =>
      iam.send(
        new SimulateCustomPolicyCommand({
          PolicyInputList: [document],
          ActionNames: ['iam:GetRole', 'iam:GetUser', 'iam:CreateRole'],
          MaxItems: 2,
          ...(Marker ? { Marker } : {}),
        }),
      );
    const first = await run();
    expect(first.IsTruncated).toBe(true);
    expect(first.EvaluationResults?.map((e) => e.EvalDecision)).toEqual([
      'allowed',
      'explicitDeny',
    ]);
    expect(first.EvaluationResults?.[0]?.MatchedStatements?.[0]).toMatchObject({
      SourcePolicyId: 'PolicyInputList.1',
      SourcePolicyType: 'none',
      StartPosition: { Line: 4, Column: 5 },
      EndPosition: { Line: 8, Column: 5 },
    });
    expect(first.EvaluationResults?.[1]?.MatchedStatements?.[0]).toMatchObject({
      StartPosition: { Line: 9, Column: 5 },
      EndPosition: { Line: 13, Column: 5 },
    });
    const second = await run(first.Marker);
    expect(second.IsTruncated).toBe(false);
    expect(second.EvaluationResults?.map((e) => [e.EvalActionName, e.EvalDecision])).toEqual([
      ['iam:CreateRole', 'implicitDeny'],
    ]);
    await expect(run('not-a-marker')).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('a malformed policy input is MalformedPolicyDocument', async () => {
    await expect(
      iam.send(
        new SimulateCustomPolicyCommand({
          PolicyInputList: ['{"Statement":[{"Effect":"Maybe"}]}'],
          ActionNames: ['s3:GetObject'],
        }),
      ),
    ).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
  });

  it('aws iam simulate-principal-policy and latchkey simulate answer the same', async () => {
    const r = await runAwsCli(
      [
        'iam',
        'simulate-principal-policy',
        '--policy-source-arn',
        alice,
        '--action-names',
        's3:GetObject',
        '--resource-arns',
        'arn:aws:s3:::reports/a',
      ],
      t.cliEnv(),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).EvaluationResults[0].EvalDecision).toBe('explicitDeny');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, '../helpers/latchkey.ts'),
      'simulate',
      '--principal',
      alice,
      '--action',
      's3:GetObject',
      '--resource',
      'arn:aws:s3:::reports/a',
      '--context',
      'aws:SourceIp=10.0.0.1',
      '--data-dir',
      t.dataDir,
    ]);
    expect(stdout).toContain('ALLOWED  s3:GetObject on arn:aws:s3:::reports/a');
    expect(stdout).toContain('allowed by user/alice/inline/reports#Read');
    void exec;
  });
});
