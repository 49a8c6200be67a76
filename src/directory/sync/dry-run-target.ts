import type { TenantStore } from '../../store/tenant-store.js';
import type { SyncObjectRecord } from '../../store/repositories/sync-repository.js';
import type { ObjectKind } from './directory-source.js';
import type { SyncReport } from './sync-report.js';
import { BaseTarget, dnKeyOf, type SyncTarget } from './sync-target.js';
import type { Member, SyncUnit } from './sync-units.js';

/**
 * A dry run's target: reports every change a run would make and writes nothing at all (no
 * row, no change-feed entry, no audit event). What a real run keeps in the ledger while it
 * goes (seen marks, objects it created) is kept in memory instead, as ids only: the objects it
 * would create (so that memberships naming them are shown) and the ids it saw (so that what is
 * gone can be told). That memory grows with the directory, which is acceptable for a run an
 * admin starts by hand; real runs keep it in the store.
 */
export class DryRunTarget extends BaseTarget implements SyncTarget {
  readonly dryRun = true;
  private readonly seen = new Set<string>();
  private readonly plannedByDn = new Map<string, Member & { kind: ObjectKind }>();
  private readonly plannedGroups = new Map<string, string>();

  constructor(store: TenantStore, connectionId: string, run: number, report: SyncReport) {
    super(store, connectionId, run, report);
  }

  async apply(units: SyncUnit[]): Promise<void> {
    for (const unit of units) {
      for (const change of unit.changes) this.report.change(change);
      if (unit.type === 'create-user' || unit.type === 'create-group') {
        const id = unit.type === 'create-user' ? unit.user.id : unit.group.id;
        const key = dnKeyOf(unit.ref.dn);
        if (key) this.plannedByDn.set(key, { kind: unit.ref.kind, type: unit.ref.kind, id });
        if (unit.type === 'create-group') this.plannedGroups.set(unit.ref.ref, id);
        this.seen.add(`${unit.ref.kind}:${unit.ref.ref}`);
      }
    }
  }

  async markSeen(kind: ObjectKind, externalIds: string[]): Promise<void> {
    for (const id of externalIds) this.seen.add(`${kind}:${id}`);
  }

  async succeeded(): Promise<void> {}

  override async resolveDnKeys(dnKeys: string[]): Promise<Map<string, Member & { kind: ObjectKind }>> {
    const found = await super.resolveDnKeys(dnKeys);
    for (const key of dnKeys) {
      const planned = this.plannedByDn.get(key);
      if (planned) found.set(key, planned);
    }
    return found;
  }

  override async groupIds(externalIds: string[]): Promise<Map<string, string>> {
    const found = await super.groupIds(externalIds);
    for (const id of externalIds) {
      const planned = this.plannedGroups.get(id);
      if (planned) found.set(id, planned);
    }
    return found;
  }

  /** Objects brought by sign-in that the ledger does not know and that this dry run did not find. */
  private readonly adopted = new Map<ObjectKind, SyncObjectRecord[]>();

  async adopt(kind: ObjectKind, objects: Array<{ id: string; externalId: string; dn: string | undefined }>): Promise<void> {
    const list = this.adopted.get(kind) ?? [];
    for (const o of objects) list.push({ kind, externalId: o.externalId, objectId: o.id, dn: o.dn ?? '', dnKey: '', seenRun: 0, missingSince: undefined });
    this.adopted.set(kind, list);
  }

  /** Present objects (in the ledger, or adopted) that the dry run did not see, in id order. */
  private async candidates(kind: ObjectKind): Promise<SyncObjectRecord[]> {
    const out: SyncObjectRecord[] = [];
    let after: string | undefined;
    while (true) {
      // Every stored run number is below MAX_SAFE_INTEGER: this lists every present object.
      const rows = await this.store.sync.unseen(this.connectionId, kind, Number.MAX_SAFE_INTEGER, { after, limit: 1000 });
      if (rows.length === 0) break;
      for (const row of rows) if (!this.seen.has(`${kind}:${row.externalId}`)) out.push(row);
      after = rows.at(-1)!.externalId;
    }
    for (const row of this.adopted.get(kind) ?? []) if (!this.seen.has(`${kind}:${row.externalId}`)) out.push(row);
    return out.sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0));
  }

  async unseen(kind: ObjectKind, page: { after?: string | undefined; limit: number }): Promise<SyncObjectRecord[]> {
    const all = await this.candidates(kind);
    return all.filter((r) => page.after === undefined || r.externalId > page.after).slice(0, page.limit);
  }

  async countUnseen(kind: ObjectKind): Promise<number> {
    return (await this.candidates(kind)).length;
  }
}
