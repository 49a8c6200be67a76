import { describe, expect, it } from '@jest/globals';
import { parseConnectionInput, resolveNewSettings, resolveUpdatedSettings } from '../../src/connectors/ldap/ldap-settings.js';
import { fileTimeToMs, interpretBindFailure, refuseBeforeBind } from '../../src/connectors/ldap/ldap-account-status.js';
import { adDataCode, classifyLdapError, LdapTimeoutError } from '../../src/connectors/ldap/ldap-errors.js';
import { LdapEntry } from '../../src/connectors/ldap/ldap-entry.js';
import { endpointOf } from '../../src/connectors/ldap/ldap-session.js';
import { InvalidCredentialsError, BusyError } from 'ldapts';

const resolve = (input: Record<string, unknown>) => resolveNewSettings(parseConnectionInput({ id: 'corp', ...input }));
const problems = (input: Record<string, unknown>): string => {
  try {
    resolve(input);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the settings to be refused');
};
const where = { servers: ['ldaps://dc1.corp.example'], baseDn: 'DC=corp,DC=example', bindDn: 'svc@corp.example' };

describe('LDAP connection settings', () => {
  it('needs only hosts, base DN and service account with a preset', () => {
    const ad = resolve({ preset: 'active-directory', ...where });
    expect(ad).toMatchObject({
      preset: 'active-directory',
      servers: ['ldaps://dc1.corp.example'],
      users: { loginAttributes: ['sAMAccountName', 'userPrincipalName'], scope: 'sub' },
      attributes: { id: 'objectGUID', idFormat: 'guid', username: 'sAMAccountName' },
      groups: { mode: 'memberOf', nested: 'in-chain' },
      accountStatus: 'active-directory',
      tls: { caCertificates: [], minVersion: 'TLSv1.2' },
      dangerouslyAllowPlaintext: false,
      timeouts: { connectMs: 1500, operationMs: 5000 },
    });
    const openldap = resolve({ ...where, bindDn: 'cn=svc,dc=corp,dc=example' });
    expect(openldap).toMatchObject({ preset: 'openldap', attributes: { id: 'entryUUID', idFormat: 'uuid' }, groups: { mode: 'groupOfNames', nested: 'walk' } });
  });

  it('lets any preset field be overridden, and a custom connection spell everything out', () => {
    expect(resolve({ preset: 'openldap', ...where, users: { loginAttributes: ['uid', 'mail'] }, groups: { nested: 'none' } })).toMatchObject({
      users: { loginAttributes: ['uid', 'mail'], filter: '(objectClass=inetOrgPerson)' },
      groups: { nested: 'none', mode: 'groupOfNames' },
    });
    expect(problems({ preset: 'custom', ...where })).toMatch(/users: .*attributes: .*groups: .*accountStatus:/);
  });

  it('refuses plain ldap:// only with the loudly named option, and treats ldap:// as StartTLS otherwise', () => {
    const starttls = resolve({ ...where, servers: ['ldap://dc1.corp.example:3389'] });
    expect(endpointOf(starttls.servers[0]!, starttls)).toMatchObject({ security: 'starttls', port: 3389 });
    const plain = resolve({ ...where, servers: ['ldap://dc1.corp.example'], dangerouslyAllowPlaintext: true });
    expect(endpointOf(plain.servers[0]!, plain)).toMatchObject({ security: 'plaintext', port: 389 });
    expect(endpointOf('ldaps://[::1]', plain)).toMatchObject({ security: 'ldaps', host: '::1', port: 636 });
  });

  it('reports every problem with its key', () => {
    const message = problems({
      servers: ['https://dc1', 'ldaps://user:pw@dc2', 'ldaps://dc3/o=x?uid'],
      baseDn: 'not a dn',
      bindDn: 'also not',
      users: { filter: 'uid=*', loginAttributes: [] },
      tls: { caCertificates: ['-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----'] },
      groups: { mode: 'posixGroup', nested: 'walk' },
      roles: [{ group: 'admins', role: 'admin' }],
      timeouts: { connectMs: 5 },
    });
    for (const expected of [
      'servers.0: "https://dc1" must start with ldaps:// or ldap://',
      'servers.1: "ldaps://user:pw@dc2" must be only a scheme, a host and an optional port',
      'servers.2:',
      'baseDn: is not a valid distinguished name',
      'bindDn: is not a DN, a userPrincipalName',
      'users.filter: is not an LDAP search filter',
      'users.loginAttributes:',
      'tls.caCertificates.0: is not a PEM certificate',
      'roles.0.group: is not a valid distinguished name',
      'timeouts.connectMs:',
    ]) expect(message).toContain(expected);
    expect(problems({ ...where, groups: { mode: 'posixGroup', nested: 'walk' } })).toContain('groups.nested: posixGroup members are user names');
    expect(problems({ ...where, groups: { mode: 'groupOfUniqueNames', nested: 'in-chain' } })).toContain('groups.nested: in-chain');
    expect(problems({ ...where, colour: 'blue' })).toContain('unknown key "colour"');
  });

  it('applies a change over the stored settings; null clears a mapped attribute; a new preset replaces its fields', () => {
    const current = resolve({ preset: 'openldap', ...where, roles: [{ group: 'cn=admins,dc=corp,dc=example', role: 'admin' }] });
    const changed = resolveUpdatedSettings(current, { attributes: { phone: null }, timeouts: { operationMs: 2000 } });
    expect(changed.attributes.phone).toBeUndefined();
    expect(changed.timeouts).toEqual({ connectMs: 1500, operationMs: 2000 });
    const ad = resolveUpdatedSettings(current, { preset: 'active-directory' });
    expect(ad).toMatchObject({ preset: 'active-directory', attributes: { id: 'objectGUID' }, roles: current.roles, servers: current.servers });
  });
});

describe('account state and bind answers', () => {
  const ad = resolve({ preset: 'active-directory', ...where });
  const entry = (attributes: Record<string, string>) => new LdapEntry({ dn: 'CN=x,DC=corp,DC=example', ...attributes });
  const now = Date.UTC(2026, 5, 1);

  it('converts accountExpires (FILETIME); 0 and 0x7FFFFFFFFFFFFFFF mean never', () => {
    expect(fileTimeToMs('116444736000000000')).toBe(0);
    expect(fileTimeToMs('133000000000000000')).toBe(Date.UTC(2022, 5, 18, 4, 26, 40));
    expect(fileTimeToMs('0')).toBeUndefined();
    expect(fileTimeToMs('9223372036854775807')).toBeUndefined();
  });

  it('reads userAccountControl, the computed lockout and password flags, and accountExpires', () => {
    expect(refuseBeforeBind(entry({ userAccountControl: '514' }), ad, now)).toMatchObject({ reason: 'account_disabled' });
    expect(refuseBeforeBind(entry({ userAccountControl: '512', 'msDS-User-Account-Control-Computed': '16' }), ad, now)).toMatchObject({ reason: 'account_locked' });
    expect(refuseBeforeBind(entry({ userAccountControl: '512', 'msDS-User-Account-Control-Computed': '8388608' }), ad, now)).toMatchObject({ reason: 'password_expired' });
    // A stale lockoutTime does not lock anybody out when the DC computes the state itself.
    expect(refuseBeforeBind(entry({ userAccountControl: '512', 'msDS-User-Account-Control-Computed': '0', lockoutTime: '133000000000000000' }), ad, now)).toBeUndefined();
    expect(refuseBeforeBind(entry({ userAccountControl: '512', accountExpires: String(BigInt(now - 1000) * 10000n + 116444736000000000n) }), ad, now)).toMatchObject({ reason: 'account_expired' });
    expect(refuseBeforeBind(entry({ userAccountControl: '512', accountExpires: '9223372036854775807' }), ad, now)).toBeUndefined();
  });

  it('maps Active Directory bind sub-codes to reasons', () => {
    const fail = (data: string) => classifyLdapError(new InvalidCredentialsError(`80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data ${data}, v3839`));
    expect(adDataCode('AcceptSecurityContext error, data 775, v2580')).toBe('775');
    for (const [data, reason] of [['52e', 'invalid_credentials'], ['533', 'account_disabled'], ['701', 'account_expired'], ['532', 'password_expired'], ['773', 'password_expired'], ['775', 'account_locked']]) {
      expect(interpretBindFailure(fail(data!), entry({}), ad).reason).toBe(reason);
    }
  });

  it('tells server failures (try the next server) from answers', () => {
    expect(classifyLdapError(new BusyError('busy'))).toMatchObject({ kind: 'result', code: 51, serverFailure: true });
    expect(classifyLdapError(new InvalidCredentialsError())).toMatchObject({ kind: 'result', code: 49, serverFailure: false });
    expect(classifyLdapError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toMatchObject({ kind: 'unreachable', serverFailure: true });
    expect(classifyLdapError(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toMatchObject({ kind: 'tls', serverFailure: true });
    expect(classifyLdapError(new LdapTimeoutError('connect', 1500, 'bind'))).toMatchObject({ kind: 'timeout', detail: 'no connection within 1500 ms' });
  });
});
