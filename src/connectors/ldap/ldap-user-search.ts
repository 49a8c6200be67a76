import { AndFilter, EqualityFilter, FilterParser, OrFilter, type Filter } from 'ldapts';
import { accountStatusAttributes } from './ldap-account-status.js';
import { binaryAttributeNames, LdapEntry } from './ldap-entry.js';
import type { LdapSession } from './ldap-session.js';
import { userBaseDn, type LdapSettings } from './ldap-settings.js';
import { userSearchAttributes } from './ldap-user-mapping.js';

export type UserSearchResult = { kind: 'found'; entry: LdapEntry } | { kind: 'none' } | { kind: 'ambiguous'; count: number };

/** What a person may type as their name: no control characters, at most 256 characters. */
export function acceptableLoginName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length > 0 && name.length <= 256 && !/[\u0000-\u001f\u007f]/.test(name);
}

/**
 * The filter that finds a person by what they typed: the admin's user filter AND an equality
 * match on any login attribute. The typed name only ever becomes the value of an equality
 * assertion, a BER OCTET STRING on the wire (RFC 4511 §4.5.1.7), so `*`, `(`, `)` and `\` are
 * matched literally: no wildcard, no filter injection. (Printed, ldapts escapes them as RFC 4515
 * §3 requires: `\2a`, `\28`, `\29`, `\5c`.)
 */
export function userFilter(settings: LdapSettings, typed: string): Filter {
  const matches = settings.users.loginAttributes.map((attribute) => new EqualityFilter({ attribute, value: typed }));
  const login = matches.length === 1 ? matches[0]! : new OrFilter({ filters: matches });
  return new AndFilter({ filters: [FilterParser.parseString(settings.users.filter), login] });
}

/** Searches the person with the service session. Two matches are refused rather than guessed between. */
export async function searchUser(session: LdapSession, settings: LdapSettings, typed: string): Promise<UserSearchResult> {
  const attributes = userSearchAttributes(settings, accountStatusAttributes(settings));
  const entries = await session.search(userBaseDn(settings), {
    scope: settings.users.scope,
    filter: userFilter(settings, typed),
    attributes,
    explicitBufferAttributes: settings.attributes.idFormat === 'guid' ? binaryAttributeNames([settings.attributes.id]) : [],
    // Two are enough to know the name is ambiguous.
    sizeLimit: 2,
  });
  if (entries.length === 0) return { kind: 'none' };
  if (entries.length > 1) return { kind: 'ambiguous', count: entries.length };
  return { kind: 'found', entry: new LdapEntry(entries[0]!) };
}
