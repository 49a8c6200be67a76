import type { Clock } from '../../clock.js';
import type { ConnectorContext, ExternalGroup, PasswordCheckResult, PasswordConnector } from '../connector.js';
import { interpretBindFailure, refuseBeforeBind } from './ldap-account-status.js';
import { normalizeDn } from './ldap-dn.js';
import { LdapOperationError, LdapUnavailableError } from './ldap-errors.js';
import { GroupLookup, type LdapGroup } from './ldap-group-lookup.js';
import type { LdapServerPool } from './ldap-server-pool.js';
import type { LdapSettings } from './ldap-settings.js';
import { acceptableLoginName, searchUser } from './ldap-user-search.js';
import { ldapIdentityFields, mapUserEntry } from './ldap-user-mapping.js';

/** `ldap:<connection id>`: the source of users and groups this connection brings in. */
export const ldapSource = (connectionId: string) => `ldap:${connectionId}`;

/** Roles from the group-to-role mapping, matched by DN (RFC 4514 / caseIgnoreMatch). */
export function rolesFor(groups: LdapGroup[], settings: LdapSettings): string[] {
  const member = new Set(groups.map((g) => normalizeDn(g.dn)));
  const roles = settings.roles.filter((r) => member.has(normalizeDn(r.group))).map((r) => r.role);
  return [...new Set(roles)].sort();
}

/**
 * Sign-in with a directory password (issue 4):
 *  1. refuse an empty password before anything is sent (an unauthenticated bind "succeeds",
 *     RFC 4513 §5.1.2) and names that cannot be typed;
 *  2. find the person with the service account (the typed name is an equality value, never
 *     filter text): none -> unknown_user, so the next connector is tried; two -> refused;
 *  3. refuse disabled, locked and expired accounts from their entry (AD userAccountControl,
 *     msDS-User-Account-Control-Computed, accountExpires; OpenLDAP ppolicy);
 *  4. bind as the person's DN with the typed password on a fresh connection, always unbound;
 *  5. read their groups (nested included) with the service account and map groups to roles;
 *  6. return the identity anchored on the immutable id (entryUUID / objectGUID).
 * Every server failing at any step gives directory_unavailable, never an exception.
 */
export class LdapPasswordConnector implements PasswordConnector {
  readonly kind = 'password' as const;
  private readonly groups: GroupLookup;

  constructor(
    readonly id: string,
    readonly displayName: string,
    readonly pool: LdapServerPool,
    private readonly clock: Clock,
  ) {
    this.groups = new GroupLookup(pool.settings);
  }

  get settings(): LdapSettings {
    return this.pool.settings;
  }

  async checkPassword(username: string, password: string, context: ConnectorContext): Promise<PasswordCheckResult> {
    if (password === '') return { ok: false, reason: 'invalid_credentials', detail: 'empty password refused before any bind' };
    const typed = username.trim();
    if (!acceptableLoginName(typed)) return { ok: false, reason: 'unknown_user', detail: 'the name is empty, too long or has control characters' };
    const settings = this.settings;
    const log = context.logger.child({ connector: this.id });
    try {
      const found = await this.pool.withService(async (session, server) => ({ result: await searchUser(session, settings, typed), server: server.endpoint.url }));
      if (found.result.kind === 'none') return { ok: false, reason: 'unknown_user', detail: `no entry matches in ${this.id}` };
      if (found.result.kind === 'ambiguous') {
        return { ok: false, reason: 'invalid_credentials', detail: `the name matches ${found.result.count} entries in ${this.id}; refused rather than guessed` };
      }
      const entry = found.result.entry;
      const mapped = mapUserEntry(entry, settings);
      if (!mapped) {
        log.error({ dn: entry.dn }, 'LDAP entry lacks the immutable id or username attribute of the mapping');
        return { ok: false, reason: 'directory_unavailable', detail: `entry ${entry.dn} has no ${settings.attributes.id} or ${settings.attributes.username}: check the attribute mapping` };
      }
      const refusal = refuseBeforeBind(entry, settings, this.clock.now());
      if (refusal) return { ok: false, reason: refusal.reason, detail: `${entry.dn}: ${refusal.detail}` };

      const bind = await this.pool.bindAsUser(entry.dn, password, found.server);
      if (!bind.ok) {
        const why = interpretBindFailure(bind.failure, entry, settings);
        return { ok: false, reason: why.reason, detail: `${entry.dn}: ${why.detail}` };
      }

      const lookup = await this.pool.withService((session) => this.groups.groupsOf(session, entry));
      if (lookup.truncated) log.warn({ dn: entry.dn, maxDepth: settings.groups.maxDepth }, 'group nesting deeper than groups.maxDepth: walk stopped');
      const groups: ExternalGroup[] = lookup.groups.map((g) => ({ externalId: g.externalId, name: g.dn, displayName: g.displayName }));
      return {
        ok: true,
        identity: {
          source: ldapSource(this.id),
          // The same fields directory sync writes (ldap-user-mapping.ts).
          ...ldapIdentityFields(mapped),
          groups,
          roles: rolesFor(lookup.groups, settings),
          authentication: { amr: ['pwd'] },
        },
      };
    } catch (error) {
      if (error instanceof LdapUnavailableError) {
        log.warn({ attempts: error.summary }, 'LDAP directory unavailable');
        return { ok: false, reason: 'directory_unavailable', detail: error.summary };
      }
      if (error instanceof LdapOperationError) {
        log.error({ code: error.code, reason: error.message }, 'LDAP directory refused an operation');
        return { ok: false, reason: 'directory_unavailable', detail: error.message };
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
