import { describe, expect, it } from 'vitest';
import { statementSpans } from '../../src/policy/index.js';

describe('statementSpans', () => {
  it('finds each statement’s braces, by line and column from 1', () => {
    const text = [
      '{',
      '  "Version": "2012-10-17",',
      '  "Statement": [',
      '    {',
      '      "Sid": "Brace}In\\"String{",',
      '      "Effect": "Allow", "Action": ["s3:*"], "Resource": "*"',
      '    },',
      '    { "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"k": "true"}} }',
      '  ]',
      '}',
    ].join('\n');
    expect(statementSpans(text)).toEqual([
      { start: { line: 4, column: 5 }, end: { line: 7, column: 5 } },
      { start: { line: 8, column: 5 }, end: { line: 8, column: 94 } },
    ]);
  });

  it('a single statement object, and the last Statement key wins as in JSON.parse', () => {
    expect(statementSpans('{"Statement":{"Effect":"Allow"}}')).toEqual([
      { start: { line: 1, column: 14 }, end: { line: 1, column: 31 } },
    ]);
    expect(statementSpans('{"Statement":[{}],"Statement":[{},{}]}')).toHaveLength(2);
  });

  it('text that is not a policy gives no positions rather than failing', () => {
    expect(statementSpans('not json')).toEqual([]);
    expect(statementSpans('{"Statement":[{"Effect":}]}')).toEqual([]);
    expect(statementSpans('{"Version":"2012-10-17"}')).toEqual([]);
  });
});
