import { describe, expect, it } from '@jest/globals';
import { dnEquals, escapeDnValue, isValidDn, normalizeDn, parseDn } from '../../src/connectors/ldap/ldap-dn.js';
import { isUnder } from '../../src/connectors/ldap/ldap-group-lookup.js';
import { formatGuid } from '../../src/connectors/ldap/ldap-entry.js';

describe('distinguished names (RFC 4514)', () => {
  it('parses escapes, hex pairs (UTF-8), multi-valued RDNs and spaces around separators', () => {
    expect(parseDn('uid=tricky*(user)\\5Cname,ou=people,dc=example,dc=com')[0]).toEqual([{ type: 'uid', value: 'tricky*(user)\\name' }]);
    expect(parseDn('CN=Carol M\\C3\\BCller, OU=People,DC=example,DC=test')[0]).toEqual([{ type: 'CN', value: 'Carol Müller' }]);
    expect(parseDn('cn=a\\,b+uid=x,dc=com')[0]).toEqual([
      { type: 'cn', value: 'a,b' },
      { type: 'uid', value: 'x' },
    ]);
    expect(parseDn('cn=\\ lead and trail\\ ,dc=com')[0]![0]!.value).toBe(' lead and trail ');
    expect(parseDn('1.3.6.1.4.1.1466.0=#04024869,dc=com')[0]![0]).toEqual({ type: '1.3.6.1.4.1.1466.0', value: '#04024869' });
    expect(parseDn('')).toEqual([]);
  });

  it('refuses what is not a DN', () => {
    for (const bad of ['no-equals', 'cn=a,', 'cn=a"b,dc=com', '=x', 'cn=a\\zz', 'cn=\\C3,dc=com']) expect(isValidDn(bad)).toBe(false);
  });

  it('escapes values so that they read back the same', () => {
    for (const value of ['a,b', ' lead', 'trail ', '#hash', 'x+y;z<w>"q"', 'back\\slash', 'Zoë Ñúñez', 'a=b']) {
      const dn = `cn=${escapeDnValue(value)},dc=example,dc=com`;
      expect(parseDn(dn)[0]![0]!.value).toBe(value);
    }
    expect(escapeDnValue('a,b')).toBe('a\\,b');
    expect(escapeDnValue(' #x ')).toBe('\\ #x\\ ');
  });

  it('compares as directories do: types and values case-insensitive, spaces and escaping normalised', () => {
    expect(dnEquals('CN=Admins,OU=Groups,DC=Example,DC=Test', 'cn=admins, ou=groups ,dc=example,dc=test')).toBe(true);
    expect(dnEquals('cn=Carol M\\C3\\BCller,dc=x', 'cn=carol müller,dc=x')).toBe(true);
    expect(dnEquals('cn=a\\2Cb,dc=x', 'cn=a\\,b,dc=x')).toBe(true);
    expect(dnEquals('cn=admins,ou=groups,dc=x', 'cn=admins,ou=contractors,dc=x')).toBe(false);
    expect(normalizeDn('UID=x+CN=y,DC=z')).toBe('cn=y+uid=x,dc=z');
    expect(isUnder('cn=a,ou=groups,dc=x', 'OU=Groups,DC=X')).toBe(true);
    expect(isUnder('cn=a,ou=othergroups,dc=x', 'ou=groups,dc=x')).toBe(false);
  });
});

describe('objectGUID', () => {
  it('renders the GUID string form of [MS-DTYP] 2.3.4 (first three fields little-endian)', () => {
    const bytes = Buffer.from('40fc296b47ca6710b31d00dd010662da', 'hex');
    expect(formatGuid(bytes)).toBe('6b29fc40-ca47-1067-b31d-00dd010662da');
    expect(() => formatGuid(Buffer.alloc(15))).toThrow('16 bytes');
  });
});
