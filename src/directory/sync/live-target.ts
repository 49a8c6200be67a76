import { GatehouseError, isGatehouseError } from '../../errors/gatehouse-error.js';
import { isUniqueViolation } from '../../store/store.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { SyncObjectRecord } from '../../store/repositories/sync-repository.js';
import { directoryTransaction, type ChangeOrigin, type DirectoryWriter } from '../directory-writer.js';
import type { ObjectKind } from './directory-source.js';
import type { SyncReport } from './sync-report.js';
import { BaseTarget, dnKeyOf, type SyncTarget } from './sync-target.js';
import type { LedgerWrite, SyncUnit } from './sync-units.js';

/** Errors that belong to one object (its data conflicts with the tenant directory); anything else fails the run. */
function objectError(error: unknown): { code: string; reason: string } | undefined {
  if (isUniqueViolation(error)) {
    return { code: 'sync.username_conflict', reason: 'another user of this connection already has this user name (an entry renamed or deleted and re-created; it is retried next run)' };
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  // SQLite constraint failures and PostgreSQL's integrity constraint class (SQLSTATE 23xxx).
  if (typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || /^23\d{3}$/.test(code))) {
    return { code: 'sync.object_conflict', reason: `the tenant directory refused the change (${code})` };
  }
  if (isGatehouseError(error) && error.status < 500) return { code: error.code, reason: error.message };
  return undefined;
}

export interface LiveTargetOptions {
  store: TenantStore;
  connectionId: string;
  run: number;
  report: SyncReport;
  origin: ChangeOrigin;
  /** Entries in the retry list when the run started (`kind:ref`). */
  retrying: Set<string>;
  /** Thrown before each write once the run's lease is lost (another run took over). */
  checkLease: () => void;
  clock: { now(): number };
}

/** Applies a run's units to the tenant directory, in batches, each unit atomically. */
export class LiveTarget extends BaseTarget implements SyncTarget {
  readonly dryRun = false;
  /** Units applied one by one after a failed batch take the careful path. */
  private alone = false;

  constructor(private readonly options: LiveTargetOptions) {
    super(options.store, options.connectionId, options.run, options.report);
  }

  async apply(units: SyncUnit[]): Promise<void> {
    if (units.length === 0) return;
    this.options.checkLease();
    this.alone = false;
    if (units.length > 1) {
      try {
        await this.transaction(units);
        for (const unit of units) await this.done(unit);
        return;
      } catch (error) {
        if (!objectError(error)) throw error;
        // One of them is broken: each alone, so the others still go in.
      }
    }
    for (const unit of units) {
      try {
        this.alone = true;
        await this.transaction([unit]);
        await this.done(unit);
      } catch (error) {
        const why = objectError(error);
        if (!why) throw error;
        this.report.error({ kind: unit.ref.kind, dn: unit.ref.dn, code: why.code, reason: why.reason });
        await this.store.sync.recordFailure(this.connectionId, { kind: unit.ref.kind, ref: unit.ref.ref, dn: unit.ref.dn, reason: `${why.code}: ${why.reason}` }, this.options.clock.now());
      }
    }
  }

  private async done(unit: SyncUnit): Promise<void> {
    for (const change of unit.changes) this.report.change(change);
    await this.succeeded(unit.ref.kind, [unit.ref.ref]);
  }

  async succeeded(kind: ObjectKind, externalIds: string[]): Promise<void> {
    const retried = externalIds.filter((id) => this.options.retrying.delete(`${kind}:${id}`));
    if (retried.length) await this.store.sync.clearRetries(this.connectionId, kind, retried);
  }

  /**
   * One directory transaction for the units. New users and groups, and members added, go in
   * multi-row statements (one per kind for the whole batch: the changes are the same as one by
   * one, numbered in order); everything else unit by unit. Units of one batch are different
   * objects of one phase, so their order among themselves does not matter.
   */
  private transaction(units: SyncUnit[]): Promise<void> {
    return directoryTransaction(this.store, this.options.origin, async (dir) => {
      let membershipsChanged = false;
      const users = units.filter((u): u is Extract<SyncUnit, { type: 'create-user' }> => u.type === 'create-user');
      const groups = units.filter((u): u is Extract<SyncUnit, { type: 'create-group' }> => u.type === 'create-group');
      if (users.length) {
        await dir.createUsers(users.map((u) => u.user));
        await this.ledgers(dir, users.map((u) => u.ledger));
      }
      if (groups.length) {
        await dir.createGroups(groups.map((u) => u.group));
        await this.ledgers(dir, groups.map((u) => u.ledger));
      }
      for (const unit of units) {
        if (unit.type === 'create-user' || unit.type === 'create-group') continue;
        membershipsChanged = (await this.execute(dir, unit)) || membershipsChanged;
      }
      // Roles are derived from memberships: marked in the same transaction, so a run killed
      // before it derives them leaves the mark for the next run.
      if (membershipsChanged) await dir.store.sync.updateState(this.connectionId, { rolesDirty: true });
    });
  }

  /** Ledger rows of several units: new rows in multi-row inserts, changes one by one. */
  private async ledgers(dir: DirectoryWriter, writes: LedgerWrite[]): Promise<void> {
    const inserts: SyncObjectRecord[] = [];
    for (const write of writes) {
      if ('insert' in write) inserts.push(write.insert);
      else await this.ledger(dir, write);
    }
    if (inserts.length) await dir.store.sync.insertObjects(this.connectionId, inserts);
  }

  private async ledger(dir: DirectoryWriter, write: LedgerWrite | undefined): Promise<void> {
    if (!write) return;
    if ('insert' in write) await dir.store.sync.insertObjects(this.connectionId, [write.insert]);
    else await dir.store.sync.updateObject(this.connectionId, write.kind, write.externalId, write.patch);
  }

  /** Runs one unit inside the transaction; true when it changed memberships. */
  private async execute(dir: DirectoryWriter, unit: SyncUnit): Promise<boolean> {
    const ledger = dir.store.sync;
    switch (unit.type) {
      case 'create-user':
        await dir.createUser(unit.user);
        await this.ledger(dir, unit.ledger);
        return false;
      case 'update-user':
        if (!(await dir.updateUser(unit.userId, unit.patch))) throw new GatehouseError('sync.object_gone', 'the user was deleted in the tenant directory meanwhile');
        await this.ledger(dir, unit.ledger);
        return false;
      case 'disable-user':
        await dir.updateUser(unit.userId, { status: 'disabled' });
        await ledger.updateObject(this.connectionId, 'user', unit.ref.ref, { missingSince: unit.since });
        return false;
      case 'delete-user':
        await dir.deleteUser(unit.userId);
        await ledger.deleteObject(this.connectionId, 'user', unit.ref.ref);
        return true;
      case 'create-group':
        await dir.createGroup(unit.group);
        await this.ledger(dir, unit.ledger);
        return false;
      case 'update-group':
        if (!(await dir.updateGroup(unit.groupId, unit.patch))) throw new GatehouseError('sync.object_gone', 'the group was deleted in the tenant directory meanwhile');
        await this.ledger(dir, unit.ledger);
        return false;
      case 'disable-group':
        for (const m of unit.members) await dir.removeMember(unit.groupId, m.type, m.id);
        await ledger.updateObject(this.connectionId, 'group', unit.ref.ref, { missingSince: unit.since });
        return unit.members.length > 0;
      case 'delete-group':
        await dir.deleteGroup(unit.groupId);
        await ledger.deleteObject(this.connectionId, 'group', unit.ref.ref);
        return true;
      case 'members':
        for (const m of unit.remove) await dir.removeMember(unit.groupId, m.type, m.id);
        // The reconciler found these not to be members; alone (after a failed batch) they go one
        // by one, which skips a member that another writer (a sign-in) added meanwhile.
        if (this.alone) for (const m of unit.add) await dir.addMember(unit.groupId, m.type, m.id);
        else await dir.addMembers(unit.groupId, unit.add);
        return unit.add.length + unit.remove.length > 0;
      case 'user-roles':
        await dir.updateUser(unit.userId, { attributes: unit.attributes });
        return false;
      case 'ledger':
        for (const write of unit.writes) await this.ledger(dir, write);
        return false;
    }
  }

  async adopt(kind: ObjectKind, objects: Array<{ id: string; externalId: string; dn: string | undefined }>): Promise<void> {
    await this.store.sync.insertObjects(
      this.connectionId,
      objects.map((o) => ({ kind, externalId: o.externalId, objectId: o.id, dn: o.dn ?? '', dnKey: (o.dn && dnKeyOf(o.dn)) ?? '', seenRun: 0, missingSince: undefined })),
    );
  }

  async markSeen(kind: ObjectKind, externalIds: string[]): Promise<void> {
    if (externalIds.length) await this.store.sync.markSeen(this.connectionId, kind, externalIds, this.run);
  }

  unseen(kind: ObjectKind, page: { after?: string | undefined; limit: number }): Promise<SyncObjectRecord[]> {
    return this.store.sync.unseen(this.connectionId, kind, this.run, page);
  }

  countUnseen(kind: ObjectKind): Promise<number> {
    return this.store.sync.countUnseen(this.connectionId, kind, this.run);
  }
}
