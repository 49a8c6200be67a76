import type { SourceMembers } from './directory-source.js';
import type { SyncChange } from './sync-changes.js';
import { applyInBatches, type RunContext } from './run-context.js';
import { dnKeyOf, memberLabels } from './sync-target.js';
import type { Member, SyncUnit } from './sync-units.js';

const key = (m: Member) => `${m.type}:${m.id}`;

/**
 * Memberships: each group gets exactly the direct members its entry lists, users and groups
 * alike (a group in a group stays a group member: nesting is kept, and the tenant directory's
 * group repository computes effective membership from it, as for every other source). Members
 * are named by DN in the directory and resolved through the ledger; values naming entries
 * outside the sync scope are left out (and counted).
 */
export class MembershipReconciler {
  /** Groups whose members this run compared (incremental runs only: they are few). */
  readonly processed = new Set<string>();

  constructor(private readonly ctx: RunContext) {}

  async page(items: SourceMembers[]): Promise<void> {
    if (items.length === 0) return;
    if (this.ctx.mode === 'incremental') for (const item of items) this.processed.add(item.group.externalId);
    const { target, source } = this.ctx;
    const report = target.report;
    const groupIds = await target.groupIds(items.map((i) => i.group.externalId));
    const keysOf = new Map<SourceMembers, string[]>();
    const allKeys = new Set<string>();
    for (const item of items) {
      const keys: string[] = [];
      for (const dn of item.memberDns) {
        const k = dnKeyOf(dn);
        if (k) {
          keys.push(k);
          allKeys.add(k);
        }
      }
      keysOf.set(item, keys);
    }
    const resolved = await target.resolveDnKeys([...allKeys]);
    const usernames = items.flatMap((i) => i.memberUsernames);
    const byUsername = new Map(usernames.length ? (await target.store.users.findManyByUsernames(source, usernames)).map((u) => [u.username, u.id]) : []);
    const current = await target.store.groups.membersOfMany([...new Set(groupIds.values())]);

    const units: SyncUnit[] = [];
    const removed: Array<{ unit: SyncUnit & { type: 'members' }; members: Member[] }> = [];
    let outside = 0;
    for (const item of items) {
      const groupId = groupIds.get(item.group.externalId);
      // A group that could not be created (its error is reported) has no members to set.
      if (!groupId) continue;
      const desired = new Map<string, Member & { label: string }>();
      const dns = item.memberDns;
      keysOf.get(item)!.forEach((k, i) => {
        const found = resolved.get(k);
        if (!found) outside++;
        else if (found.id !== groupId) desired.set(key(found), { type: found.type, id: found.id, label: dns[i] ?? k });
      });
      for (const name of item.memberUsernames) {
        const id = byUsername.get(name.toLowerCase());
        if (id) desired.set(`user:${id}`, { type: 'user', id, label: name });
        else outside++;
      }
      const have = new Map((current.get(groupId) ?? []).map((m) => [key(m), m]));
      const add = [...desired.entries()].filter(([k]) => !have.has(k)).map(([, m]) => m);
      let remove = [...have.entries()].filter(([k]) => !desired.has(k)).map(([, m]) => m);
      if (remove.length && this.ctx.guarded) {
        report.held.removeMember += remove.length;
        remove = [];
      }
      if (add.length === 0 && remove.length === 0) continue;
      const changes: SyncChange[] = add.map((m) => ({ op: 'add-member', group: item.group.dn, member: m.label, memberKind: m.type }));
      const unit: SyncUnit & { type: 'members' } = {
        type: 'members',
        ref: { kind: 'group', ref: item.group.externalId, dn: item.group.dn },
        groupId,
        add: add.map((m) => ({ type: m.type, id: m.id })),
        remove,
        changes,
      };
      if (remove.length) removed.push({ unit, members: remove });
      units.push(unit);
    }
    if (outside) report.note('some member values name entries outside the sync scope (or not synced); they are left out');
    // Removed members are named by their DN (one lookup for the page).
    if (removed.length) {
      const dnOf = await memberLabels(target.store, removed.flatMap((r) => r.members));
      for (const { unit, members } of removed) {
        for (const m of members) unit.changes.push({ op: 'remove-member', group: unit.ref.dn, member: dnOf.get(key(m)) ?? `${m.type} ${m.id}`, memberKind: m.type });
      }
    }
    await applyInBatches(this.ctx, units);
  }
}
