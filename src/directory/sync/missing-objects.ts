import { leafValue } from '../../connectors/ldap/ldap-dn.js';
import type { SyncObjectRecord } from '../../store/repositories/sync-repository.js';
import type { ObjectKind } from './directory-source.js';
import type { SyncChange } from './sync-changes.js';
import { thresholdBreach } from './deletion-threshold.js';
import { applyInBatches, checkAborted, type RunContext } from './run-context.js';
import { memberLabels } from './sync-target.js';
import type { SyncUnit } from './sync-units.js';

const DAY_MS = 86_400_000;
/** Candidates checked against the directory (and disabled) per round. */
const PAGE = 200;

export interface Stop {
  code: 'sync.deletion_threshold';
  message: string;
}

/**
 * Objects that left the directory or the sync scope, found after a complete listing of the
 * scope (a full run, or an incremental run's presence scan): the ledger's objects this run did
 * not see.
 *
 * 1. They are counted per kind and checked against the deletion threshold; past it, the run
 *    stops here and disables nothing.
 * 2. Each is asked for once more by its immutable id, so an entry a paged search skipped (the
 *    directory changed under it) is never taken for gone.
 * 3. The rest are disabled at once: users get status `disabled` (sign-in and tokens refused),
 *    groups lose their members (they grant nothing); the ledger notes since when.
 * With the connection's settings changed and nobody's confirmation (`guarded`), step 3 only
 * counts them.
 */
export interface MissingOutcome {
  stop: Stop | undefined;
  /** Users found gone (disabled, held back, or shown by a dry run): their groups are read again by incremental runs. */
  goneUsers: string[];
}

export async function disableMissing(ctx: RunContext, complete: Record<ObjectKind, boolean>): Promise<MissingOutcome> {
  const goneUsers: string[] = [];
  const { target } = ctx;
  const report = target.report;
  const kinds = (['user', 'group'] as const).filter((k) => complete[k]);
  const counts = new Map<ObjectKind, number>();
  for (const kind of kinds) {
    const missing = await target.countUnseen(kind);
    counts.set(kind, missing);
    report.missing[kind === 'user' ? 'users' : 'groups'] = missing;
  }
  let stop: Stop | undefined;
  if (!ctx.confirmed) {
    for (const kind of kinds) {
      const present = await target.store.sync.countPresent(ctx.connectionId, kind);
      const why = thresholdBreach(kind, counts.get(kind)!, present, ctx.settings.sync.deletionThreshold);
      if (why) {
        stop = { code: 'sync.deletion_threshold', message: `${why}: nothing was disabled. Check the connection's scope, then confirm with --confirm-deletions if they really left.` };
        break;
      }
    }
  }
  // A dry run goes on to show what a confirmed run would disable.
  if (stop && !target.dryRun) return { stop, goneUsers };
  for (const kind of kinds) {
    if (!counts.get(kind)) continue;
    let after: string | undefined;
    while (true) {
      checkAborted(ctx);
      const rows = await target.unseen(kind, { after, limit: PAGE });
      if (rows.length === 0) break;
      after = rows.at(-1)!.externalId;
      const stillThere = new Set(
        kind === 'user'
          ? (await ctx.reader.usersById(rows.map((r) => r.externalId))).map((u) => u.externalId)
          : (await ctx.reader.groupsById(rows.map((r) => r.externalId))).map((g) => g.externalId),
      );
      await target.markSeen(kind, [...stillThere]);
      const gone = rows.filter((r) => !stillThere.has(r.externalId));
      if (kind === 'user') goneUsers.push(...gone.map((r) => r.objectId));
      if (ctx.guarded) {
        report.held.disable += gone.length;
        continue;
      }
      await applyInBatches(ctx, kind === 'user' ? await disableUsers(ctx, gone) : await disableGroups(ctx, gone));
    }
  }
  return { stop, goneUsers };
}

async function disableUsers(ctx: RunContext, rows: SyncObjectRecord[]): Promise<SyncUnit[]> {
  const users = new Map((await ctx.target.store.users.getMany(rows.map((r) => r.objectId))).map((u) => [u.id, u]));
  return rows.map((row) => {
    const user = users.get(row.objectId);
    return {
      type: 'disable-user',
      ref: { kind: 'user', ref: row.externalId, dn: row.dn },
      userId: row.objectId,
      since: ctx.now,
      // A user already deleted in the tenant directory: only the ledger notes it.
      changes: user ? [{ op: 'disable', kind: 'user', label: user.username, dn: row.dn }] : [],
    };
  });
}

async function disableGroups(ctx: RunContext, rows: SyncObjectRecord[]): Promise<SyncUnit[]> {
  const members = await ctx.target.store.groups.membersOfMany(rows.map((r) => r.objectId));
  const names = await memberLabels(ctx.target.store, [...members.values()].flat());
  return rows.map((row) => {
    const list = members.get(row.objectId) ?? [];
    const changes: SyncChange[] = [
      { op: 'disable', kind: 'group', label: row.dn, dn: row.dn },
      ...list.map((m): SyncChange => ({ op: 'remove-member', group: row.dn, member: names.get(`${m.type}:${m.id}`) ?? `${m.type} ${m.id}`, memberKind: m.type })),
    ];
    return { type: 'disable-group', ref: { kind: 'group', ref: row.externalId, dn: row.dn }, groupId: row.objectId, since: ctx.now, members: list, changes };
  });
}

/**
 * Objects missing for longer than the tenant's grace period (`sync.deleteAfterDays`) are
 * deleted: users with their memberships, factors, sessions and tokens (DirectoryWriter), groups
 * with their memberships. Until then an entry that comes back gets its object back.
 */
export async function deleteExpired(ctx: RunContext, deleteAfterDays: number): Promise<void> {
  const { target } = ctx;
  const before = ctx.now - deleteAfterDays * DAY_MS;
  for (const kind of ['user', 'group'] as const) {
    let after: string | undefined;
    while (true) {
      checkAborted(ctx);
      const rows = await target.store.sync.missingBefore(ctx.connectionId, kind, before, { after, limit: PAGE });
      if (rows.length === 0) break;
      after = rows.at(-1)!.externalId;
      if (ctx.guarded) {
        target.report.held.delete += rows.length;
        continue;
      }
      const labels =
        kind === 'user'
          ? new Map((await target.store.users.getMany(rows.map((r) => r.objectId))).map((u) => [u.id, u.username]))
          : new Map(rows.map((r) => [r.objectId, r.dn]));
      const units: SyncUnit[] = rows.map((row) => {
        const ref = { kind, ref: row.externalId, dn: row.dn };
        const label = labels.get(row.objectId) ?? leafValue(row.dn) ?? row.dn;
        const changes: SyncChange[] = labels.has(row.objectId) ? [{ op: 'delete', kind, label, dn: row.dn, missingSince: row.missingSince! }] : [];
        return kind === 'user' ? { type: 'delete-user', ref, userId: row.objectId, changes } : { type: 'delete-group', ref, groupId: row.objectId, changes };
      });
      await applyInBatches(ctx, units);
    }
  }
}
