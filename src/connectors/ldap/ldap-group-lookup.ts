import { AndFilter, EqualityFilter, ExtensibleFilter, FilterParser, OrFilter, PresenceFilter, ResultCodeError, type Filter } from 'ldapts';
import { normalizeDn, leafValue } from './ldap-dn.js';
import { binaryAttributeNames, LdapEntry, renderId } from './ldap-entry.js';
import type { LdapSession } from './ldap-session.js';
import { groupBaseDn, type LdapSettings } from './ldap-settings.js';

/**
 * Which groups a user belongs to, nested groups included. Groups are identified by DN and by
 * their immutable id, never by common name: `cn=admins,ou=groups` and `cn=admins,ou=contractors`
 * are two different groups.
 */
export interface LdapGroup {
  /** As the server writes it; this is the name apps see in the `groups` claim. */
  dn: string;
  /** entryUUID / objectGUID when the group has one, else the normalised DN. */
  externalId: string;
  /** The common name, for display only. */
  displayName: string | undefined;
  /** 0 for direct membership, n for a group reached through n levels of nesting. */
  depth: number;
}

export interface GroupLookupResult {
  groups: LdapGroup[];
  /** Nesting went deeper than groups.maxDepth (almost always a loop); the walk stopped there. */
  truncated: boolean;
}

/** LDAP_MATCHING_RULE_IN_CHAIN ([MS-ADTS] 3.1.1.3.4.4.3): transitive evaluation on the DC. */
export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';

const ANY_OBJECT = new PresenceFilter({ attribute: 'objectClass' });

/** Group DNs asked about in one search; keeps filters short on big nesting levels. */
const DNS_PER_SEARCH = 50;

/** Whether `dn` is `base` or below it (compared as normalised DNs). */
export function isUnder(dn: string, base: string): boolean {
  try {
    const d = normalizeDn(dn);
    const b = normalizeDn(base);
    return b === '' || d === b || d.endsWith(`,${b}`);
  } catch {
    return false;
  }
}

/**
 * How a group entry is identified, the same for sign-in and for directory sync: its immutable id
 * (the normalised DN when it has none), its DN as the name, its common name for display.
 */
export function groupIdentity(entry: LdapEntry, settings: LdapSettings): Omit<LdapGroup, 'depth'> {
  const g = settings.groups;
  return {
    dn: entry.dn,
    externalId: renderId(entry, g.idAttribute, g.idFormat) ?? normalizeDn(entry.dn),
    displayName: entry.first(g.nameAttribute) ?? leafValue(entry.dn),
  };
}

export class GroupLookup {
  private readonly groupFilter: Filter;
  private readonly attributes: string[];

  constructor(private readonly settings: LdapSettings) {
    this.groupFilter = FilterParser.parseString(settings.groups.filter);
    const g = settings.groups;
    this.attributes = [g.idAttribute, g.nameAttribute, ...(g.mode === 'memberOf' && g.nested === 'walk' ? ['memberOf'] : [])];
  }

  private toGroup(entry: LdapEntry, depth: number): LdapGroup {
    return { ...groupIdentity(entry, this.settings), depth };
  }

  private async search(session: LdapSession, filter: Filter, base = groupBaseDn(this.settings), scope: 'base' | 'one' | 'sub' = this.settings.groups.scope): Promise<LdapEntry[]> {
    const entries = await session.search(base, {
      scope,
      filter: new AndFilter({ filters: [this.groupFilter, filter] }),
      attributes: this.attributes,
      explicitBufferAttributes: this.settings.groups.idFormat === 'guid' ? binaryAttributeNames([this.settings.groups.idAttribute]) : [],
      // RFC 2696 paging: a user in more groups than the server's size limit still gets them all.
      paged: { pageSize: 500 },
    });
    return entries.map((e) => new LdapEntry(e));
  }

  /** The groups of the user whose entry is given (it carries memberOf / the memberUid attribute when the mode needs them). */
  async groupsOf(session: LdapSession, user: LdapEntry): Promise<GroupLookupResult> {
    const g = this.settings.groups;
    switch (g.mode) {
      case 'none':
        return { groups: [], truncated: false };
      case 'posixGroup': {
        // memberUid holds user names (RFC 2307), so posix groups cannot contain groups.
        const uid = user.first(g.memberUidAttribute);
        if (!uid) return { groups: [], truncated: false };
        const found = await this.search(session, new EqualityFilter({ attribute: 'memberUid', value: uid }));
        return { groups: this.sorted(found.map((e) => this.toGroup(e, 0))), truncated: false };
      }
      case 'groupOfNames':
      case 'groupOfUniqueNames': {
        const memberAttribute = g.mode === 'groupOfNames' ? 'member' : 'uniqueMember';
        if (g.nested === 'in-chain') return this.inChain(session, user.dn, memberAttribute);
        return this.walkByMember(session, user.dn, memberAttribute);
      }
      case 'memberOf':
        if (g.nested === 'in-chain') return this.inChain(session, user.dn, 'member');
        return this.walkByMemberOf(session, user);
    }
  }

  /** One search; the directory follows the chain of `member` values itself (Active Directory). */
  private async inChain(session: LdapSession, userDn: string, memberAttribute: string): Promise<GroupLookupResult> {
    const found = await this.search(session, new ExtensibleFilter({ matchType: memberAttribute, rule: IN_CHAIN_RULE, value: userDn }));
    return { groups: this.sorted(found.map((e) => this.toGroup(e, 0))), truncated: false };
  }

  /**
   * Groups whose member attribute names the user, then groups that name those groups, level by
   * level, each group once (a visited set, so a loop of groups ends), at most maxDepth levels.
   */
  private async walkByMember(session: LdapSession, userDn: string, memberAttribute: string): Promise<GroupLookupResult> {
    const g = this.settings.groups;
    const byDn = new Map<string, LdapGroup>();
    let frontier = [userDn];
    let depth = 0;
    while (frontier.length) {
      if (depth >= (g.nested === 'walk' ? g.maxDepth : 1)) return { groups: this.sorted([...byDn.values()]), truncated: g.nested === 'walk' };
      const next: string[] = [];
      for (let i = 0; i < frontier.length; i += DNS_PER_SEARCH) {
        const chunk = frontier.slice(i, i + DNS_PER_SEARCH);
        const filter =
          chunk.length === 1
            ? new EqualityFilter({ attribute: memberAttribute, value: chunk[0]! })
            : new OrFilter({ filters: chunk.map((dn) => new EqualityFilter({ attribute: memberAttribute, value: dn })) });
        for (const entry of await this.search(session, filter)) {
          const key = normalizeDn(entry.dn);
          if (byDn.has(key)) continue;
          byDn.set(key, this.toGroup(entry, depth));
          next.push(entry.dn);
        }
      }
      frontier = next;
      depth += 1;
    }
    return { groups: this.sorted([...byDn.values()]), truncated: false };
  }

  /**
   * From the user's memberOf values (direct groups, e.g. slapd's memberof overlay, which is not
   * transitive), then each group's own memberOf, level by level.
   */
  private async walkByMemberOf(session: LdapSession, user: LdapEntry): Promise<GroupLookupResult> {
    const g = this.settings.groups;
    const base = groupBaseDn(this.settings);
    const byDn = new Map<string, LdapGroup>();
    let frontier = user.all('memberOf');
    let depth = 0;
    while (frontier.length) {
      if (depth >= (g.nested === 'walk' ? g.maxDepth : 1)) return { groups: this.sorted([...byDn.values()]), truncated: g.nested === 'walk' };
      const next: string[] = [];
      for (const dn of frontier) {
        const key = normalizeDn(dn);
        if (byDn.has(key) || !isUnder(dn, base)) continue;
        // A base-scope read of each group: DN-valued filters (entryDN, distinguishedName) differ between servers.
        const [entry] = await this.search(session, ANY_OBJECT, dn, 'base').catch((error: unknown) => {
          // A memberOf value naming a group that is gone (noSuchObject, 32) is skipped.
          if (error instanceof ResultCodeError && error.code === 32) return [] as LdapEntry[];
          throw error;
        });
        if (!entry) continue;
        byDn.set(key, this.toGroup(entry, depth));
        next.push(...entry.all('memberOf'));
      }
      frontier = next;
      depth += 1;
    }
    return { groups: this.sorted([...byDn.values()]), truncated: false };
  }

  private sorted(groups: LdapGroup[]): LdapGroup[] {
    return groups.sort((a, b) => (normalizeDn(a.dn) < normalizeDn(b.dn) ? -1 : 1));
  }
}
