/**
 * Presets: everything about a connection except where the directory is (servers, base DN) and
 * who Gatehouse binds as (service account), for the two directories most tenants run. An admin
 * who picks a preset types only hosts, base DN and service account; every field of the preset can
 * still be overridden.
 */
export const LDAP_PRESETS = ['active-directory', 'openldap'] as const;
export type LdapPresetName = (typeof LDAP_PRESETS)[number];

/** The fields a preset fills in (the shape of LdapSettings without where/who). */
export interface LdapPresetValues {
  users: { scope: 'sub' | 'one'; filter: string; loginAttributes: string[] };
  attributes: {
    id: string;
    idFormat: 'uuid' | 'guid' | 'text';
    username: string;
    email?: string | undefined;
    displayName?: string | undefined;
    givenName?: string | undefined;
    familyName?: string | undefined;
    phone?: string | undefined;
  };
  groups: {
    mode: 'groupOfNames' | 'groupOfUniqueNames' | 'posixGroup' | 'memberOf' | 'none';
    scope: 'sub' | 'one';
    filter: string;
    nested: 'walk' | 'in-chain' | 'none';
    idAttribute: string;
    idFormat: 'uuid' | 'guid' | 'text';
    nameAttribute: string;
    memberUidAttribute: string;
    maxDepth: number;
  };
  accountStatus: 'active-directory' | 'openldap-ppolicy' | 'none';
}

export const PRESETS: Record<LdapPresetName, LdapPresetValues> = {
  /**
   * Active Directory (and Samba AD). People type their sAMAccountName or their
   * userPrincipalName; the anchor is objectGUID (stable across renames and moves, unlike the DN
   * and sAMAccountName). Groups are found with the LDAP_MATCHING_RULE_IN_CHAIN matching rule
   * (1.2.840.113556.1.4.1941, [MS-ADTS] 3.1.1.3.4.4.3), which the DC evaluates transitively, so
   * nested groups come back in one search. Computer accounts are users too in AD: excluded.
   */
  'active-directory': {
    users: { scope: 'sub', filter: '(&(objectClass=user)(!(objectClass=computer)))', loginAttributes: ['sAMAccountName', 'userPrincipalName'] },
    attributes: {
      id: 'objectGUID',
      idFormat: 'guid',
      username: 'sAMAccountName',
      email: 'mail',
      displayName: 'displayName',
      givenName: 'givenName',
      familyName: 'sn',
      phone: 'telephoneNumber',
    },
    groups: {
      mode: 'memberOf',
      scope: 'sub',
      filter: '(objectClass=group)',
      nested: 'in-chain',
      idAttribute: 'objectGUID',
      idFormat: 'guid',
      nameAttribute: 'cn',
      memberUidAttribute: 'sAMAccountName',
      maxDepth: 16,
    },
    accountStatus: 'active-directory',
  },
  /**
   * OpenLDAP with inetOrgPerson users and groupOfNames groups. The anchor is entryUUID
   * (RFC 4530). slapd's memberof overlay is not transitive, so Gatehouse walks nested groups
   * itself (member=<group DN>, level by level). Accounts locked by the ppolicy overlay
   * (pwdAccountLockedTime, draft-behera-ldap-password-policy) are recognised.
   */
  openldap: {
    users: { scope: 'sub', filter: '(objectClass=inetOrgPerson)', loginAttributes: ['uid'] },
    attributes: {
      id: 'entryUUID',
      idFormat: 'uuid',
      username: 'uid',
      email: 'mail',
      displayName: 'displayName',
      givenName: 'givenName',
      familyName: 'sn',
      phone: 'telephoneNumber',
    },
    groups: {
      mode: 'groupOfNames',
      scope: 'sub',
      filter: '(objectClass=groupOfNames)',
      nested: 'walk',
      idAttribute: 'entryUUID',
      idFormat: 'uuid',
      nameAttribute: 'cn',
      memberUidAttribute: 'uid',
      maxDepth: 16,
    },
    accountStatus: 'openldap-ppolicy',
  },
};
