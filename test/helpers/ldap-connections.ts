import type { LdapConnectionInput } from '../../src/connectors/ldap/ldap-settings.js';
import { GROUP_DNS } from '../fixtures/ldap/openldap-directory.js';
import type { Slapd } from './slapd.js';
import type { TestCa } from './test-ca.js';

/** A connection to the test slapd with the OpenLDAP preset: what an admin would type, plus the test CA. */
export function openldapConnection(id: string, servers: string[], slapd: Slapd, ca: TestCa, extra: Partial<LdapConnectionInput> = {}): LdapConnectionInput {
  return {
    id,
    displayName: `Test directory ${id}`,
    preset: 'openldap',
    servers,
    baseDn: slapd.baseDn,
    bindDn: slapd.serviceDn,
    bindPassword: slapd.servicePassword,
    tls: { caCertificates: [ca.certPem] },
    roles: [{ group: GROUP_DNS.admins, role: 'admin' }],
    ...extra,
  };
}
