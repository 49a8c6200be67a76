import { newObjectId } from './object-ids.js';
import type { GroupPatch, GroupRecord } from '../../store/repositories/group-repository.js';
import type { SyncObjectRecord } from '../../store/repositories/sync-repository.js';
import type { SourceGroup, SourcePage } from './directory-source.js';
import type { SyncChange } from './sync-changes.js';
import { applyInBatches, type RunContext } from './run-context.js';
import { dnKeyOf } from './sync-target.js';
import type { LedgerWrite, SyncUnit } from './sync-units.js';

/**
 * Groups (the objects; their members are membership-reconciler.ts's): found by the entry's
 * immutable id, named by DN as sign-in names them (so `cn=admins,ou=groups` and
 * `cn=admins,ou=contractors` stay two groups, and a renamed group keeps its id and members).
 */
export class GroupReconciler {
  /** Entries handled by this run (incremental runs only: they are few), so retries skip them. */
  readonly processed = new Set<string>();

  constructor(private readonly ctx: RunContext) {}

  async page(page: SourcePage<SourceGroup>): Promise<void> {
    const { target, source, connectionId } = this.ctx;
    target.report.groups.read += page.items.length;
    const items = new Map(page.items.map((g) => [g.externalId, g]));
    const ids = [...items.keys()];
    if (ids.length === 0) return;
    if (this.ctx.mode === 'incremental') for (const id of ids) this.processed.add(id);
    const groups = new Map((await target.store.groups.findManyByExternalIds(source, ids)).map((g) => [g.externalId!, g]));
    const ledger = await target.store.sync.objectsByExternalId(connectionId, 'group', ids);
    const units: SyncUnit[] = [];
    const unchanged: string[] = [];
    for (const item of items.values()) {
      const unit = this.reconcile(item, groups.get(item.externalId), ledger.get(item.externalId));
      if (unit) units.push(unit);
      else unchanged.push(item.externalId);
    }
    await target.markSeen('group', [...ledger.keys()]);
    target.report.groups.unchanged += unchanged.length;
    await target.succeeded('group', unchanged);
    await applyInBatches(this.ctx, units);
  }

  private reconcile(item: SourceGroup, group: GroupRecord | undefined, row: SyncObjectRecord | undefined): SyncUnit | undefined {
    const ref = { kind: 'group' as const, ref: item.externalId, dn: item.dn };
    const dnKey = dnKeyOf(item.dn) ?? item.dn.toLowerCase();
    if (!group) {
      const id = newObjectId();
      const ledger: LedgerWrite = row
        ? { kind: 'group', externalId: item.externalId, patch: { objectId: id, dn: item.dn, dnKey, missingSince: undefined } }
        : { insert: { kind: 'group', externalId: item.externalId, objectId: id, dn: item.dn, dnKey, seenRun: this.ctx.target.run, missingSince: undefined } };
      return {
        type: 'create-group',
        ref,
        group: { id, name: item.name, displayName: item.displayName, source: this.ctx.source, externalId: item.externalId },
        ledger,
        changes: [{ op: 'create', kind: 'group', label: item.name, dn: item.dn }],
      };
    }
    const patch: GroupPatch = {};
    const fields: string[] = [];
    if (group.name !== item.name) {
      patch.name = item.name;
      fields.push('name');
    }
    if ((group.displayName ?? null) !== (item.displayName ?? null)) {
      patch.displayName = item.displayName;
      fields.push('displayName');
    }
    const changes: SyncChange[] = [];
    if (row?.missingSince !== undefined) changes.push({ op: 'restore', kind: 'group', label: item.name, dn: item.dn });
    if (fields.length) {
      const renamed = dnKeyOf(group.name) !== dnKey ? group.name : undefined;
      changes.push({ op: 'update', kind: 'group', label: item.name, dn: item.dn, fields, renamedFrom: renamed });
    }
    let ledger: LedgerWrite | undefined;
    if (!row) ledger = { insert: { kind: 'group', externalId: item.externalId, objectId: group.id, dn: item.dn, dnKey, seenRun: this.ctx.target.run, missingSince: undefined } };
    else {
      const p: Record<string, unknown> = {};
      if (row.objectId !== group.id) p.objectId = group.id;
      if (row.dn !== item.dn) Object.assign(p, { dn: item.dn, dnKey });
      if (row.missingSince !== undefined) p.missingSince = undefined;
      if (Object.keys(p).length) ledger = { kind: 'group', externalId: item.externalId, patch: p };
    }
    if (fields.length) return { type: 'update-group', ref, groupId: group.id, patch, ledger, changes };
    if (ledger) return { type: 'ledger', ref, writes: [ledger], changes };
    return undefined;
  }
}
