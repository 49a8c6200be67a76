import { createHash } from 'node:crypto';
import { normalizeDn } from '../../connectors/ldap/ldap-dn.js';
import type { LdapSettings } from '../../connectors/ldap/ldap-settings.js';
import { rolesFingerprint } from './role-assignments.js';

/**
 * The "settings changed" guard (safety rail). What a run sees of the directory depends on where
 * it looks and who it is: the servers, the base DNs, the filters, the id attributes, the service
 * account and its password. A change to any of them can make entries vanish from view without
 * anybody leaving: a base DN with a typo, a corrected password of an account that sees less, a
 * filter that is narrower than meant. So the first runs after such a change may add and update,
 * but take no access away (no disabling, no deletion, no membership removed, no account disabled
 * by the directory) until an admin confirms (`--confirm-deletions`); they report what they held
 * back, and a dry run shows it in full.
 *
 * The fingerprint covers exactly those settings (DNs compared normalised, so writing them in
 * another case changes nothing). The password counts by its sealed form: setting it again,
 * even to the same value, counts as a change (Gatehouse cannot tell without opening it, and
 * a re-typed password is exactly the case to be careful about).
 */
export function scopeFingerprint(settings: LdapSettings, sealedPassword: string | undefined): string {
  const dn = (value: string | undefined) => (value === undefined ? null : normalizeDn(value));
  const scope = {
    servers: settings.servers,
    baseDn: dn(settings.baseDn),
    bindDn: settings.bindDn.toLowerCase(),
    password: sealedPassword ?? null,
    users: { baseDn: dn(settings.users.baseDn), scope: settings.users.scope, filter: settings.users.filter },
    attributes: { id: settings.attributes.id.toLowerCase(), idFormat: settings.attributes.idFormat },
    groups: {
      mode: settings.groups.mode,
      baseDn: dn(settings.groups.baseDn),
      scope: settings.groups.scope,
      filter: settings.groups.filter,
      idAttribute: settings.groups.idAttribute.toLowerCase(),
      idFormat: settings.groups.idFormat,
    },
    accountStatus: settings.accountStatus,
  };
  return createHash('sha256').update(JSON.stringify(scope)).digest('base64url');
}

/** What a successful run stores: the scope it was allowed to act on, and the role mapping it applied. */
export interface StoredFingerprint {
  scope: string;
  roles: string;
}

export function currentFingerprint(settings: LdapSettings, sealedPassword: string | undefined): StoredFingerprint {
  return { scope: scopeFingerprint(settings, sealedPassword), roles: rolesFingerprint(settings) };
}

export function parseFingerprint(text: string | undefined): StoredFingerprint | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as StoredFingerprint;
    return typeof value.scope === 'string' && typeof value.roles === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
