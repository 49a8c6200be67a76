import { createHash } from 'node:crypto';
import { normalizeDn } from '../../connectors/ldap/ldap-dn.js';
import type { LdapSettings } from '../../connectors/ldap/ldap-settings.js';
import { MAX_GROUP_NESTING } from '../../store/repositories/group-repository.js';
import { applyInBatches, checkAborted, type RunContext } from './run-context.js';
import type { SyncUnit } from './sync-units.js';

/** Users read per round when roles are compared. */
const PAGE = 1000;

/** A fingerprint of the connection's group-to-role mapping: when it changes, every user's roles are derived again. */
export function rolesFingerprint(settings: LdapSettings): string {
  const mapping = settings.roles.map((r) => `${normalizeDn(r.group)}=${r.role}`).sort();
  return createHash('sha256').update(JSON.stringify(mapping)).digest('base64url');
}

/**
 * Roles (the `roles` claim, `attributes.roles` on the user) follow from the connection's
 * group-to-role mapping, by group DN, through nested groups: the same rule as sign-in
 * (`rolesFor` over the groups the directory reports), applied here to the memberships just
 * synced. Runs after memberships changed (the ledger's `rolesDirty` mark, set in the same
 * transactions as the membership changes, so that a run killed before this step leaves the
 * work to the next) or when the mapping itself changed.
 */
export async function assignRoles(ctx: RunContext): Promise<void> {
  const { target, settings, connectionId } = ctx;
  const store = target.store;
  const rolesOf = new Map<string, Set<string>>();
  for (const mapping of settings.roles) {
    const [group] = (await store.sync.objectsByDnKey(connectionId, [normalizeDn(mapping.group)])).filter((o) => o.kind === 'group' && o.missingSince === undefined);
    if (!group) continue;
    // Users in the group, directly or through groups nested in it (downwards, each group once).
    const visited = new Set<string>([group.objectId]);
    let frontier = [group.objectId];
    for (let depth = 0; frontier.length && depth < MAX_GROUP_NESTING; depth++) {
      const members = await store.groups.membersOfMany(frontier);
      frontier = [];
      for (const list of members.values()) {
        for (const m of list) {
          if (m.type === 'user') {
            if (!rolesOf.has(m.id)) rolesOf.set(m.id, new Set());
            rolesOf.get(m.id)!.add(mapping.role);
          } else if (!visited.has(m.id)) {
            visited.add(m.id);
            frontier.push(m.id);
          }
        }
      }
    }
  }
  let after: string | undefined;
  while (true) {
    checkAborted(ctx);
    const users = await store.users.listBySource(ctx.source, { after, limit: PAGE });
    if (users.length === 0) break;
    after = users.at(-1)!.id;
    const units: SyncUnit[] = [];
    for (const user of users) {
      const wanted = [...(rolesOf.get(user.id) ?? [])].sort();
      const have = Array.isArray(user.attributes.roles) ? (user.attributes.roles as string[]) : [];
      if (have.length === wanted.length && have.every((r, i) => r === wanted[i])) continue;
      units.push({
        type: 'user-roles',
        ref: { kind: 'user', ref: user.externalId ?? user.id, dn: typeof user.attributes.ldapDn === 'string' ? user.attributes.ldapDn : user.username },
        userId: user.id,
        attributes: { ...user.attributes, roles: wanted },
        changes: [{ op: 'roles', label: user.username, roles: wanted }],
      });
    }
    await applyInBatches(ctx, units);
  }
}
