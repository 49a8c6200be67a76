import type { LdapSettings } from '../../connectors/ldap/ldap-settings.js';
import type { Logger } from '../../logging/logger.js';
import type { SyncStateRecord } from '../../store/repositories/sync-repository.js';
import type { ChangeMark, DirectoryReader, ObjectKind } from './directory-source.js';
import { GroupReconciler } from './group-reconciler.js';
import { MembershipReconciler } from './membership-reconciler.js';
import { deleteExpired, disableMissing } from './missing-objects.js';
import { assignRoles } from './role-assignments.js';
import { checkAborted, type RunContext } from './run-context.js';
import type { StoredFingerprint } from './settings-guard.js';
import type { SyncTarget } from './sync-target.js';
import { UserReconciler } from './user-reconciler.js';

/** Untracked users or groups (brought by sign-in) taken into the ledger per round. */
const ADOPT_PAGE = 1000;
/** Entries of the retry list read again per run. */
const RETRIES_PER_RUN = 5000;

export interface RunnerInput {
  target: SyncTarget;
  settings: LdapSettings;
  connectionId: string;
  source: string;
  state: SyncStateRecord | undefined;
  mark: ChangeMark | undefined;
  /** The stored fingerprint of the last run allowed to take access away, and the current one. */
  stored: StoredFingerprint | undefined;
  current: StoredFingerprint;
  requestFull: boolean;
  confirmed: boolean;
  deleteAfterDays: number;
  now: number;
  logger: Logger;
  signal: AbortSignal | undefined;
  /** Called once the mode is known. */
  onMode?: (mode: 'full' | 'incremental') => void | Promise<void>;
}

export interface RunnerOutcome {
  mode: 'full' | 'incremental';
  status: 'succeeded' | 'stopped';
  reason?: 'sync.deletion_threshold' | 'sync.settings_changed' | undefined;
  message?: string | undefined;
  /** The mark to store if the run's outcome lets it advance. */
  mark: ChangeMark | undefined;
  /** The run listed the whole scope (a full run or a presence scan). */
  listed?: boolean | undefined;
  server: string;
}

/**
 * Hands over pages as they come and asks for the next one while the current one is applied,
 * so the directory works on page n+1 while the store takes page n (RFC 2696 paging keeps one
 * page in flight; memory holds two at most).
 */
export async function eachPage<T>(source: AsyncIterable<T>, handle: (item: T) => Promise<void>): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  let finished = false;
  try {
    while (true) {
      const result = await next;
      if (result.done) {
        finished = true;
        return;
      }
      next = iterator.next();
      // Awaited in the next round; an error while the current page is handled must not go unhandled.
      next.catch(() => {});
      await handle(result.value);
    }
  } finally {
    if (!finished) await iterator.return?.(undefined).catch(() => {});
  }
}

/**
 * One run, phase by phase: users, then groups, then memberships (which need both), then, when
 * the run listed the whole scope (a full run, or an incremental run's presence scan), the
 * objects that are gone, then the deletions whose grace period is over, then roles. Every phase
 * is idempotent: a run killed anywhere and started again converges, because nothing is skipped
 * on the strength of the previous run (the mark only moves after success).
 */
export async function runPhases(input: RunnerInput, reader: DirectoryReader): Promise<RunnerOutcome> {
  const started = performance.now();
  const { target, settings, state } = input;
  const report = target.report;
  const scopeChanged = input.stored !== undefined && input.stored.scope !== input.current.scope;
  const fullDue = state?.lastFullAt === undefined || input.now - state.lastFullAt >= settings.sync.fullEveryHours * 3_600_000;
  const resumable = reader.canResumeFrom(input.mark);
  const full = input.requestFull || !resumable || scopeChanged || fullDue;
  if (full && !input.requestFull) {
    if (!input.mark) report.note('full run: no earlier run to continue from');
    else if (!resumable) report.note(`full run: the mark of the last run is not valid on ${reader.server} (another server, or change tracking changed)`);
    else if (scopeChanged) report.note("full run: the connection's scope or credentials changed");
    else if (fullDue) report.note(`full run: the last full run is older than ${settings.sync.fullEveryHours} h`);
  }
  const mode = full ? 'full' : 'incremental';
  await input.onMode?.(mode);
  const since = full ? undefined : input.mark;
  const ctx: RunContext = {
    target,
    reader,
    settings,
    connectionId: input.connectionId,
    source: input.source,
    mode,
    // A dry run shows every change, including those a run would hold back (and says so).
    guarded: scopeChanged && !input.confirmed && !target.dryRun,
    confirmed: input.confirmed,
    now: input.now,
    logger: input.logger,
    signal: input.signal,
  };
  const users = new UserReconciler(ctx);
  const groups = new GroupReconciler(ctx);
  const memberships = new MembershipReconciler(ctx);
  const groupsSynced = settings.groups.mode !== 'none';

  // The retry list as it was before this run: entries that fail again in this run's own phases
  // are not read a second time.
  const retries = full ? [] : await target.store.sync.listRetries(input.connectionId, RETRIES_PER_RUN);
  const presenceScan =
    !full && settings.sync.presenceScan && (state?.lastListingAt === undefined || input.now - state.lastListingAt >= settings.sync.presenceScanMinutes * 60_000);
  if (full || presenceScan) await adoptUntracked(ctx, { user: true, group: groupsSynced });

  report.phase = 'users';
  await eachPage(reader.users(since), async (page) => {
    checkAborted(ctx);
    await users.page(page);
  });

  report.phase = 'groups';
  await eachPage(reader.groups(since), async (page) => {
    checkAborted(ctx);
    await groups.page(page);
  });

  if (!full) {
    // Entries whose last sync failed: read again by id, whether or not they changed since.
    report.phase = 'retries';
    const userRefs = retries.filter((r) => r.kind === 'user' && !users.processed.has(r.ref)).map((r) => r.ref);
    const groupRefs = retries.filter((r) => r.kind === 'group' && !groups.processed.has(r.ref)).map((r) => r.ref);
    const foundUsers = userRefs.length ? await reader.usersById(userRefs) : [];
    const foundGroups = groupRefs.length ? await reader.groupsById(groupRefs) : [];
    if (foundUsers.length) await users.page({ items: foundUsers, rejects: [] });
    if (foundGroups.length) {
      await groups.page({ items: foundGroups, rejects: [] });
      await memberships.page(await reader.membersById(foundGroups.map((g) => g.externalId)));
    }
    // Those no longer in scope leave the list (if they were synced before, the missing-objects phase deals with them).
    if (!target.dryRun) {
      const foundU = new Set(foundUsers.map((u) => u.externalId));
      const foundG = new Set(foundGroups.map((g) => g.externalId));
      await target.store.sync.clearRetries(input.connectionId, 'user', userRefs.filter((ref) => !foundU.has(ref)));
      await target.store.sync.clearRetries(input.connectionId, 'group', groupRefs.filter((ref) => !foundG.has(ref)));
    }
  }

  report.phase = 'memberships';
  await eachPage(reader.members(since), async (page) => {
    checkAborted(ctx);
    await memberships.page(page.items);
  });
  if (!full && users.newToLedger.length && groupsSynced) {
    // A user new to the ledger may be named by groups that did not change since the mark.
    await memberships.page(await reader.membersOfGroupsNaming(users.newToLedger));
  }

  let thresholdStop: { code: 'sync.deletion_threshold'; message: string } | undefined;
  const complete: Record<ObjectKind, boolean> = { user: full, group: full && groupsSynced };
  if (presenceScan) {
    report.phase = 'presence';
    complete.user = await presence(ctx, 'user');
    if (groupsSynced) complete.group = await presence(ctx, 'group');
  }
  if (complete.user || complete.group) {
    report.phase = 'missing';
    const { stop, goneUsers } = await disableMissing(ctx, complete);
    if (stop && !target.dryRun) return { mode, status: 'stopped', reason: stop.code, message: stop.message, mark: undefined, server: reader.server };
    if (stop) thresholdStop = stop;
    if (!full && goneUsers.length && groupsSynced) {
      // slapd's memberof overlay removes a deleted or moved member from its groups without
      // moving the groups' modifyTimestamp (OpenLDAP 2.5), so an incremental run would not see
      // those groups change: the groups of the users that are gone are read again.
      report.phase = 'memberships';
      const groupIds = await target.store.groups.directParents('user', goneUsers);
      const externalIds = (await target.store.groups.getMany(groupIds))
        .filter((g) => g.source === input.source && g.externalId && !memberships.processed.has(g.externalId))
        .map((g) => g.externalId!);
      if (externalIds.length) await memberships.page(await reader.membersById(externalIds));
      report.phase = 'missing';
    }
  }

  report.phase = 'deletions';
  await deleteExpired(ctx, input.deleteAfterDays);

  const rolesChanged = input.stored !== undefined && input.stored.roles !== input.current.roles;
  const membershipsChanged = report.memberships.added + report.memberships.removed + report.users.deleted + report.groups.deleted + report.groups.disabled > 0;
  if (!target.dryRun && (rolesChanged || ((state?.rolesDirty || membershipsChanged || report.users.created > 0) && settings.roles.length > 0))) {
    report.phase = 'roles';
    await assignRoles(ctx);
  } else if (target.dryRun && (rolesChanged || settings.roles.length > 0)) {
    report.note('roles are derived from memberships after they are written: a dry run does not show role changes');
  }
  if (!target.dryRun) await target.store.sync.updateState(input.connectionId, { rolesDirty: false });

  report.phase = 'finishing';
  if (target.dryRun) {
    // What a run would do with the same directory: stop at the threshold, or hold changes back.
    if (thresholdStop) return { mode, status: 'stopped', reason: thresholdStop.code, message: thresholdStop.message, mark: undefined, server: reader.server };
    if (scopeChanged && !input.confirmed && report.destructive > 0) {
      return {
        mode,
        status: 'stopped',
        reason: 'sync.settings_changed',
        message: `the connection's scope or credentials changed since the last run that could take access away: a run would make the other changes and hold back the ${report.destructive} that take access away until confirmed with --confirm-deletions`,
        mark: undefined,
        server: reader.server,
      };
    }
    return { mode, status: 'succeeded', mark: undefined, server: reader.server };
  }
  const held = report.held.disable + report.held.delete + report.held.removeMember + report.held.disableByDirectory;
  if (ctx.guarded && held > 0) {
    return {
      mode,
      status: 'stopped',
      reason: 'sync.settings_changed',
      message: `the connection's scope or credentials changed since the last run that could take access away: ${held} change(s) that take access away were held back (see the report, or gatehouse sync dry-run); run with --confirm-deletions to make them`,
      mark: undefined,
      server: reader.server,
    };
  }
  return { mode, status: 'succeeded', mark: reader.markAfterRun(input.mark, performance.now() - started), server: reader.server, listed: full || presenceScan };
}

/**
 * The presence scan of an incremental run: the ids of every entry in scope, one attribute each.
 * First only counted against the ledger (reads only): when every present object is among them,
 * nothing is gone and nothing needs writing, which is the usual case. Otherwise a second scan
 * marks them seen, and the objects left unseen are the ones gone. Returns whether objects of
 * the kind may be gone (the missing-objects phase then runs for it).
 */
async function presence(ctx: RunContext, kind: ObjectKind): Promise<boolean> {
  const { target, reader } = ctx;
  if (!target.dryRun) {
    let found = 0;
    await eachPage(reader.ids(kind), async (ids) => {
      checkAborted(ctx);
      found += await target.store.sync.countPresentAmong(ctx.connectionId, kind, ids);
    });
    if (found === (await target.store.sync.countPresent(ctx.connectionId, kind))) return false;
  }
  await eachPage(reader.ids(kind), async (ids) => {
    checkAborted(ctx);
    await target.markSeen(kind, ids);
  });
  return true;
}

/**
 * Users and groups of the connection's source that the ledger does not know (brought in by
 * sign-in, or from before the ledger) and that this complete listing did not find: taken into
 * the ledger as unseen, so that they are handled like every other object that is gone.
 */
async function adoptUntracked(ctx: RunContext, kinds: Record<ObjectKind, boolean>): Promise<void> {
  for (const kind of ['user', 'group'] as const) {
    if (!kinds[kind]) continue;
    let after: string | undefined;
    while (true) {
      const rows = await ctx.target.store.sync.untracked(ctx.connectionId, kind, ctx.source, { after, limit: ADOPT_PAGE });
      if (rows.length === 0) break;
      after = rows.at(-1)!.id;
      await ctx.target.adopt(kind, rows);
    }
  }
}
