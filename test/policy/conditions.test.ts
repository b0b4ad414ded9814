/**
 * Condition operators, every family, with AWS's rules for missing keys, IfExists, negation,
 * multiple values, set operators and policy variables.
 */
import { describe, expect, it } from 'vitest';
import { conditionHolds as holds } from './helpers.js';

describe('string operators', () => {
  it('StringEquals is case-sensitive, the IgnoreCase pair is not', () => {
    expect(
      holds(
        { StringEquals: { 'aws:PrincipalTag/team': 'blue' } },
        { 'aws:PrincipalTag/team': 'blue' },
      ),
    ).toBe(true);
    expect(
      holds(
        { StringEquals: { 'aws:PrincipalTag/team': 'blue' } },
        { 'aws:PrincipalTag/team': 'Blue' },
      ),
    ).toBe(false);
    expect(
      holds(
        { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'blue' } },
        { 'aws:PrincipalTag/team': 'BLUE' },
      ),
    ).toBe(true);
    expect(
      holds(
        { StringNotEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'blue' } },
        { 'aws:PrincipalTag/team': 'BLUE' },
      ),
    ).toBe(false);
  });

  it('matches condition key names case-insensitively', () => {
    expect(
      holds(
        { StringEquals: { 'AWS:principaltag/TEAM': 'blue' } },
        { 'aws:PrincipalTag/team': 'blue' },
      ),
    ).toBe(true);
  });

  it('StringLike takes * and ?; StringEquals treats them literally', () => {
    const ctx = { 's3:prefix': 'home/alice/docs' };
    expect(holds({ StringLike: { 's3:prefix': 'home/*' } }, ctx)).toBe(true);
    expect(holds({ StringLike: { 's3:prefix': 'home/al?ce/*' } }, ctx)).toBe(true);
    expect(holds({ StringLike: { 's3:prefix': 'home/al?e/*' } }, ctx)).toBe(false);
    expect(holds({ StringEquals: { 's3:prefix': 'home/*' } }, ctx)).toBe(false);
    expect(holds({ StringEquals: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/*' })).toBe(
      true,
    );
    expect(holds({ StringNotLike: { 's3:prefix': 'tmp/*' } }, ctx)).toBe(true);
  });

  it('ORs several values, and NORs them for negated operators', () => {
    const ctx = { 'aws:PrincipalAccount': '111122223333' };
    expect(
      holds({ StringEquals: { 'aws:PrincipalAccount': ['444455556666', '111122223333'] } }, ctx),
    ).toBe(true);
    expect(
      holds({ StringNotEquals: { 'aws:PrincipalAccount': ['444455556666', '111122223333'] } }, ctx),
    ).toBe(false);
    expect(
      holds({ StringNotEquals: { 'aws:PrincipalAccount': ['444455556666', '777788889999'] } }, ctx),
    ).toBe(true);
  });

  it('ANDs several keys and several operators', () => {
    const condition = {
      StringEquals: { 'aws:PrincipalTag/dept': 'finance', 'aws:PrincipalAccount': '111122223333' },
      Bool: { 'aws:SecureTransport': 'true' },
    };
    const ctx = {
      'aws:PrincipalTag/dept': 'finance',
      'aws:PrincipalAccount': '111122223333',
      'aws:SecureTransport': true,
    };
    expect(holds(condition, ctx)).toBe(true);
    expect(holds(condition, { ...ctx, 'aws:SecureTransport': false })).toBe(false);
    expect(holds(condition, { ...ctx, 'aws:PrincipalAccount': '444455556666' })).toBe(false);
  });
});

describe('missing keys, IfExists and Null', () => {
  it('fails positive operators and passes negated ones when the key is missing', () => {
    expect(holds({ StringEquals: { 'aws:PrincipalTag/team': 'blue' } }, {})).toBe(false);
    expect(holds({ StringNotEquals: { 'aws:PrincipalTag/team': 'blue' } }, {})).toBe(true);
    expect(holds({ StringNotLike: { 'aws:PrincipalTag/team': 'b*' } }, {})).toBe(true);
    expect(holds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {})).toBe(true);
    expect(holds({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, {})).toBe(true);
    expect(holds({ NumericNotEquals: { 's3:max-keys': '10' } }, {})).toBe(true);
    expect(holds({ DateNotEquals: { 'aws:TokenIssueTime': '2020-01-01T00:00:00Z' } }, {})).toBe(
      true,
    );
  });

  it('…IfExists passes when the key is missing and tests it when present', () => {
    const condition = { StringLikeIfExists: { 'ec2:InstanceType': ['t1.*', 't2.*', 'm3.*'] } };
    expect(holds(condition, {})).toBe(true);
    expect(holds(condition, { 'ec2:InstanceType': 't2.micro' })).toBe(true);
    expect(holds(condition, { 'ec2:InstanceType': 'c5.large' })).toBe(false);
  });

  it('Null tests presence: "true" means absent', () => {
    expect(holds({ Null: { 'aws:TokenIssueTime': 'true' } }, {})).toBe(true);
    expect(
      holds(
        { Null: { 'aws:TokenIssueTime': 'true' } },
        { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' },
      ),
    ).toBe(false);
    expect(
      holds(
        { Null: { 'aws:TokenIssueTime': 'false' } },
        { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' },
      ),
    ).toBe(true);
    // An empty multivalued value is a null data set.
    expect(holds({ Null: { 'aws:TagKeys': 'true' } }, { 'aws:TagKeys': [] })).toBe(true);
  });
});

describe('set operators and multivalued keys', () => {
  const tags = (...keys: string[]) => ({ 'aws:TagKeys': keys });

  it('ForAllValues: every request value must match; vacuously true when missing or empty', () => {
    const c = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } };
    expect(holds(c, tags('team'))).toBe(true);
    expect(holds(c, tags('team', 'env'))).toBe(true);
    expect(holds(c, tags('team', 'owner'))).toBe(false);
    expect(holds(c, {})).toBe(true);
    expect(holds(c, tags())).toBe(true);
  });

  it('ForAnyValue: some request value must match; false when missing or empty', () => {
    const c = { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } };
    expect(holds(c, tags('owner', 'env'))).toBe(true);
    expect(holds(c, tags('owner'))).toBe(false);
    expect(holds(c, {})).toBe(false);
    expect(holds(c, tags())).toBe(false);
    expect(holds({ 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'team' } }, {})).toBe(true);
  });

  it('negated operators with set qualifiers', () => {
    // AWS's example: deny unless every tag key starts with key1.
    const all = { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } };
    expect(holds(all, tags('key1:legal'))).toBe(false);
    expect(holds(all, tags('key1:hr', 'key1:personnel'))).toBe(false);
    expect(holds(all, tags('key2:audit'))).toBe(true);
    expect(holds(all, {})).toBe(true);
    const any = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['team', 'env'] } };
    expect(holds(any, tags('team', 'owner'))).toBe(true);
    expect(holds(any, tags('team', 'env'))).toBe(false);
    expect(holds(any, {})).toBe(false);
  });

  it('a single-valued key is a one-element set', () => {
    expect(
      holds(
        { 'ForAnyValue:StringEquals': { 'aws:PrincipalTag/team': 'blue' } },
        { 'aws:PrincipalTag/team': 'blue' },
      ),
    ).toBe(true);
  });

  it('an operator without a set qualifier does not match a multivalued key', () => {
    expect(holds({ StringEquals: { 'aws:TagKeys': 'team' } }, tags('team'))).toBe(false);
    expect(holds({ StringNotEquals: { 'aws:TagKeys': 'team' } }, tags('env'))).toBe(false);
    expect(holds({ StringEqualsIfExists: { 'aws:TagKeys': 'team' } }, tags('team', 'env'))).toBe(
      false,
    );
  });
});

describe('numeric, date, bool, binary', () => {
  it('Numeric operators compare integers and decimals', () => {
    const ctx = { 's3:max-keys': '10' };
    expect(holds({ NumericEquals: { 's3:max-keys': '10.0' } }, ctx)).toBe(true);
    expect(holds({ NumericLessThanEquals: { 's3:max-keys': '10' } }, ctx)).toBe(true);
    expect(holds({ NumericLessThan: { 's3:max-keys': '10' } }, ctx)).toBe(false);
    expect(holds({ NumericGreaterThan: { 's3:max-keys': '9.5' } }, ctx)).toBe(true);
    expect(holds({ NumericGreaterThanEquals: { 's3:max-keys': 11 } }, ctx)).toBe(false);
    expect(holds({ NumericNotEquals: { 's3:max-keys': ['1', '2'] } }, ctx)).toBe(true);
    expect(holds({ NumericEquals: { 's3:max-keys': 'ten' } }, ctx)).toBe(false);
    expect(holds({ NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': 'lots' })).toBe(
      false,
    );
  });

  it('Date operators read ISO 8601 and epoch seconds alike', () => {
    const ctx = { 'aws:CurrentTime': new Date('2024-06-01T12:00:00Z') };
    expect(holds({ DateGreaterThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' } }, ctx)).toBe(
      true,
    );
    expect(holds({ DateLessThan: { 'aws:CurrentTime': '2024-06-01T12:00:00Z' } }, ctx)).toBe(false);
    expect(
      holds({ DateLessThanEquals: { 'aws:CurrentTime': '2024-06-01T14:00:00+02:00' } }, ctx),
    ).toBe(true);
    expect(holds({ DateEquals: { 'aws:CurrentTime': '2024-06-01T12:00:00.000Z' } }, ctx)).toBe(
      true,
    );
    expect(holds({ DateEquals: { 'aws:CurrentTime': '1717243200' } }, ctx)).toBe(true);
    expect(
      holds(
        { DateGreaterThanEquals: { 'aws:EpochTime': '2024-06-01' } },
        { 'aws:EpochTime': '1717243200' },
      ),
    ).toBe(true);
    expect(holds({ DateNotEquals: { 'aws:CurrentTime': '2024-01-01' } }, ctx)).toBe(true);
  });

  it('Bool compares true/false case-insensitively', () => {
    expect(
      holds({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': false }),
    ).toBe(true);
    expect(
      holds({ Bool: { 'aws:SecureTransport': 'TRUE' } }, { 'aws:SecureTransport': 'true' }),
    ).toBe(true);
    expect(
      holds({ Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'yes' }),
    ).toBe(false);
    expect(holds({ BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }, {})).toBe(true);
  });

  it('BinaryEquals compares base64 values byte for byte', () => {
    expect(
      holds(
        { BinaryEquals: { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } },
        { key: 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' },
      ),
    ).toBe(true);
    expect(holds({ BinaryEquals: { key: 'aGVsbG8=' } }, { key: 'd29ybGQ=' })).toBe(false);
  });
});

describe('IP address operators', () => {
  it('matches IPv4 and IPv6 ranges; a lone address is itself', () => {
    const c = { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:DB8:1234:5678::/64'] } };
    expect(holds(c, { 'aws:SourceIp': '203.0.113.77' })).toBe(true);
    expect(holds(c, { 'aws:SourceIp': '203.0.114.1' })).toBe(false);
    expect(holds(c, { 'aws:SourceIp': '2001:db8:1234:5678::ab' })).toBe(true);
    expect(holds(c, { 'aws:SourceIp': '2001:db8:1234:5679::1' })).toBe(false);
    expect(
      holds({ IpAddress: { 'aws:SourceIp': '198.51.100.7' } }, { 'aws:SourceIp': '198.51.100.7' }),
    ).toBe(true);
    expect(
      holds({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': '10.1.2.3' }),
    ).toBe(true);
    expect(
      holds({ IpAddress: { 'aws:SourceIp': '::/0' } }, { 'aws:SourceIp': '::ffff:10.1.2.3' }),
    ).toBe(true);
  });

  it('NotIpAddress: an address of the other family is outside every range', () => {
    expect(
      holds(
        { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
        { 'aws:SourceIp': '2001:db8::1' },
      ),
    ).toBe(true);
    expect(
      holds({ NotIpAddress: { 'aws:SourceIp': '203.0.113.7' } }, { 'aws:SourceIp': '2001:db8::1' }),
    ).toBe(true);
    expect(
      holds(
        { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
        { 'aws:SourceIp': '203.0.113.9' },
      ),
    ).toBe(false);
    // A request value that is not an address matches neither operator.
    expect(
      holds({ NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { 'aws:SourceIp': 'nowhere' }),
    ).toBe(false);
  });
});

describe('ARN operators', () => {
  it('match segment by segment; ArnEquals and ArnLike behave the same', () => {
    const ctx = { 'aws:SourceArn': 'arn:aws:sns:us-east-2:111122223333:alerts' };
    for (const op of ['ArnEquals', 'ArnLike']) {
      expect(holds({ [op]: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:*' } }, ctx)).toBe(true);
      expect(
        holds({ [op]: { 'aws:SourceArn': 'arn:aws:sns:us-east-?:111122223333:alerts' } }, ctx),
      ).toBe(true);
      expect(holds({ [op]: { 'aws:SourceArn': 'arn:aws:sns:*:444455556666:*' } }, ctx)).toBe(false);
    }
    expect(holds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:444455556666:*' } }, ctx)).toBe(
      true,
    );
    expect(holds({ ArnNotEquals: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, ctx)).toBe(false);
  });

  it("keeps * within its segment, unlike StringLike (AWS's example)", () => {
    const ctx = {
      'aws:SourceArn':
        'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt',
    };
    const pattern = 'arn:aws:someservice:*:111122223333:finance/*';
    expect(holds({ StringLike: { 'aws:SourceArn': pattern } }, ctx)).toBe(true);
    expect(holds({ ArnLike: { 'aws:SourceArn': pattern } }, ctx)).toBe(false);
  });

  it('lets * in the resource segment span colons and slashes', () => {
    const ctx = { 'aws:SourceArn': 'arn:aws:lambda:us-east-1:111122223333:function:resize:prod' };
    expect(holds({ ArnLike: { 'aws:SourceArn': 'arn:aws:lambda:*:*:function:*' } }, ctx)).toBe(
      true,
    );
    expect(holds({ ArnLike: { 'aws:SourceArn': 'arn:aws:lambda:*:*:function:resize' } }, ctx)).toBe(
      false,
    );
  });

  it('does not match values that are not ARNs', () => {
    expect(
      holds({ ArnLike: { 'aws:SourceArn': '*' } }, { 'aws:SourceArn': 'arn:aws:s3:::b' }),
    ).toBe(false);
    expect(
      holds({ ArnLike: { 'aws:SourceArn': 'arn:*:*:*:*:*' } }, { 'aws:SourceArn': 'not-an-arn' }),
    ).toBe(false);
  });
});

describe('policy variables in conditions', () => {
  it('substitutes single-valued keys in string and ARN operators', () => {
    const ctx = {
      'aws:username': 'alice',
      's3:prefix': 'home/alice/x',
      'aws:SourceArn': 'arn:aws:iam::111122223333:user/alice',
    };
    expect(holds({ StringLike: { 's3:prefix': 'home/${aws:username}/*' } }, ctx)).toBe(true);
    expect(
      holds(
        { StringLike: { 's3:prefix': 'home/${aws:username}/*' } },
        { ...ctx, 'aws:username': 'bob' },
      ),
    ).toBe(false);
    expect(
      holds({ ArnEquals: { 'aws:SourceArn': 'arn:aws:iam::*:user/${aws:username}' } }, ctx),
    ).toBe(true);
  });

  it('treats substituted values literally, and ${*}, ${?}, ${$} as the characters', () => {
    expect(holds({ StringLike: { k: 'a${*}b' } }, { k: 'a*b' })).toBe(true);
    expect(holds({ StringLike: { k: 'a${*}b' } }, { k: 'axxb' })).toBe(false);
    expect(holds({ StringEquals: { k: 'what${?}${$}' } }, { k: 'what?$' })).toBe(true);
    expect(
      holds({ StringLike: { k: '${aws:username}' } }, { k: 'a-b', 'aws:username': 'a*' }),
    ).toBe(false);
  });

  it('uses the default when the key is missing', () => {
    const c = {
      StringEquals: { 'aws:ResourceTag/team': "${aws:PrincipalTag/team, 'company-wide'}" },
    };
    expect(holds(c, { 'aws:ResourceTag/team': 'company-wide' })).toBe(true);
    expect(
      holds(c, { 'aws:ResourceTag/team': 'company-wide', 'aws:PrincipalTag/team': 'red' }),
    ).toBe(false);
  });

  it('an unresolved variable equals nothing: positive operators fail, negated ones pass', () => {
    const ctx = { 's3:ExistingObjectTag/Team': 'red' };
    expect(
      holds({ StringEquals: { 's3:ExistingObjectTag/Team': '${aws:PrincipalTag/Team}' } }, ctx),
    ).toBe(false);
    expect(
      holds({ StringNotEquals: { 's3:ExistingObjectTag/Team': '${aws:PrincipalTag/Team}' } }, ctx),
    ).toBe(true);
    // Multivalued keys cannot be variables.
    expect(holds({ StringEquals: { k: '${aws:TagKeys}' } }, { k: 'a', 'aws:TagKeys': ['a'] })).toBe(
      false,
    );
  });

  it('are plain text in policies without Version 2012-10-17', () => {
    expect(
      holds(
        { StringEquals: { k: '${aws:username}' } },
        { k: '${aws:username}', 'aws:username': 'x' },
        null,
      ),
    ).toBe(true);
    expect(
      holds(
        { StringEquals: { k: '${aws:username}' } },
        { k: 'x', 'aws:username': 'x' },
        '2008-10-17',
      ),
    ).toBe(false);
  });

  it('Bool resolves variables; numeric, date and IP operators do not', () => {
    expect(
      holds(
        { Bool: { k: '${aws:SecureTransport}' } },
        { k: 'true', 'aws:SecureTransport': 'true' },
      ),
    ).toBe(true);
    expect(holds({ NumericEquals: { k: '${aws:n}' } }, { k: '5', 'aws:n': '5' })).toBe(false);
  });
});
