import { describe, expect, it } from '@jest/globals';
import { normalizeDn } from '../../src/connectors/ldap/ldap-dn.js';
import { dnKeyOf } from '../../src/directory/sync/sync-target.js';

describe('dnKeyOf (the short path for DN keys)', () => {
  it('gives exactly what normalizeDn gives', () => {
    const dns = [
      'uid=alice,ou=people,dc=example,dc=com',
      'UID=Alice, OU=People ,DC=Example,DC=COM',
      'cn=Zoë Ñúñez,ou=people,dc=example,dc=com',
      'CN=Carol  Müller,OU=People,DC=example,DC=test',
      'cn=ﬁle,dc=x',
      'cn=Ａｌｉｃｅ,dc=x',
      'cn=a＋b,dc=x',
      'cn=a\\,b,dc=x',
      'cn=a\\2Cb,dc=x',
      'uid=tricky*(user)\\5Cname,ou=people,dc=example,dc=com',
      'cn=a+sn=b,dc=x',
      'cn=#04024869,dc=x',
      '2.5.4.3=alice,dc=x',
      'cn=  spaced   out  ,dc=x',
    ];
    for (const dn of dns) expect(dnKeyOf(dn)).toBe(normalizeDn(dn));
  });

  it('answers undefined for what is not a DN', () => {
    expect(dnKeyOf('not a dn')).toBeUndefined();
    expect(dnKeyOf('cn=a,,dc=x')).toBeUndefined();
  });
});
