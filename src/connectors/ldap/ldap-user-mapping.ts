import { LdapEntry, renderId } from './ldap-entry.js';
import type { LdapSettings } from './ldap-settings.js';

/**
 * The attribute mapping from a directory entry to a person's profile, shared by sign-in and by
 * directory sync (issue 8) so both produce the same user.
 */
export interface MappedUser {
  /** The immutable id (entryUUID, objectGUID as a GUID string): the anchor of the link. */
  externalId: string;
  username: string;
  dn: string;
  email?: string | undefined;
  displayName?: string | undefined;
  givenName?: string | undefined;
  familyName?: string | undefined;
  phone?: string | undefined;
}

/** The attributes a user search must return for the mapping, the account checks and the group lookup. */
export function userSearchAttributes(settings: LdapSettings, extra: string[] = []): string[] {
  const a = settings.attributes;
  const names = [a.id, a.username, a.email, a.displayName, a.givenName, a.familyName, a.phone, ...settings.users.loginAttributes, ...extra];
  if (settings.groups.mode === 'memberOf') names.push('memberOf');
  if (settings.groups.mode === 'posixGroup') names.push(settings.groups.memberUidAttribute);
  const seen = new Set<string>();
  return names.filter((n): n is string => {
    if (!n || seen.has(n.toLowerCase())) return false;
    seen.add(n.toLowerCase());
    return true;
  });
}

/** Maps an entry; undefined when it has no immutable id or no username (a misconfigured mapping). */
export function mapUserEntry(entry: LdapEntry, settings: LdapSettings): MappedUser | undefined {
  const a = settings.attributes;
  const externalId = renderId(entry, a.id, a.idFormat);
  const username = entry.first(a.username);
  if (!externalId || !username) return undefined;
  return {
    externalId,
    username,
    dn: entry.dn,
    email: entry.first(a.email),
    displayName: entry.first(a.displayName),
    givenName: entry.first(a.givenName),
    familyName: entry.first(a.familyName),
    phone: entry.first(a.phone),
  };
}

/**
 * The person's fields of an identity from a mapped entry, the same for a sign-in and for sync:
 * the directory is the authority for its own mail attribute, so a mapped email is verified.
 */
export function ldapIdentityFields(mapped: MappedUser) {
  return {
    externalId: mapped.externalId,
    username: mapped.username,
    email: mapped.email,
    emailVerified: mapped.email !== undefined,
    givenName: mapped.givenName,
    familyName: mapped.familyName,
    displayName: mapped.displayName,
    phone: mapped.phone,
    /** Kept on the user: where the entry is (it changes with renames and moves; the anchor does not). */
    attributes: { ldapDn: mapped.dn },
  };
}
