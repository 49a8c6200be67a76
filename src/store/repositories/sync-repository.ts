import type { Kysely } from 'kysely';
import type { Database, SyncObjectsTable, SyncRunsTable, SyncStatesTable } from '../database.js';
import { parseJson, toJson, toNumber, toOptionalNumber } from '../rows.js';

/**
 * Directory sync's own rows (directory/sync/): per LDAP connection its state and lease, its runs,
 * its ledger of synced objects and its retry list. Every method is scoped to the tenant the
 * repository is bound to; the engine above decides what to do with them.
 */

export type SyncObjectKind = 'user' | 'group';

export interface SyncStateRecord {
  connectionId: string;
  leaseOwner: string | undefined;
  leaseUntil: number | undefined;
  leaseRunId: string | undefined;
  runCounter: number;
  lastStartedAt: number | undefined;
  lastSuccessAt: number | undefined;
  lastFullAt: number | undefined;
  lastListingAt: number | undefined;
  /** The high-water mark as stored (JSON text, read by directory/sync/change-marks.ts). */
  mark: string | undefined;
  settingsFingerprint: string | undefined;
  rolesDirty: boolean;
}

export type SyncRunStatus = 'running' | 'succeeded' | 'failed' | 'stopped' | 'interrupted';

export interface SyncRunRecord {
  id: string;
  connectionId: string;
  number: number;
  mode: 'full' | 'incremental';
  triggeredBy: 'schedule' | 'cli';
  actor: { type: string; id: string | undefined };
  status: SyncRunStatus;
  reason: string | undefined;
  message: string | undefined;
  confirmDeletions: boolean;
  startedAt: number;
  heartbeatAt: number;
  finishedAt: number | undefined;
  progress: Record<string, unknown> | undefined;
  report: Record<string, unknown> | undefined;
}

export interface SyncObjectRecord {
  kind: SyncObjectKind;
  externalId: string;
  objectId: string;
  dn: string;
  dnKey: string;
  seenRun: number;
  missingSince: number | undefined;
}

export interface SyncRetryRecord {
  kind: SyncObjectKind;
  ref: string;
  dn: string;
  reason: string;
  attempts: number;
  firstFailedAt: number;
  lastFailedAt: number;
}

/** IN lists and multi-row inserts are cut to this many values (SQLite and PostgreSQL parameter limits). */
const CHUNK = 500;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function stateFromRow(row: SyncStatesTable): SyncStateRecord {
  return {
    connectionId: row.connection_id,
    leaseOwner: row.lease_owner ?? undefined,
    leaseUntil: toOptionalNumber(row.lease_until),
    leaseRunId: row.lease_run_id ?? undefined,
    runCounter: toNumber(row.run_counter),
    lastStartedAt: toOptionalNumber(row.last_started_at),
    lastSuccessAt: toOptionalNumber(row.last_success_at),
    lastFullAt: toOptionalNumber(row.last_full_at),
    lastListingAt: toOptionalNumber(row.last_listing_at),
    mark: row.mark ?? undefined,
    settingsFingerprint: row.settings_fingerprint ?? undefined,
    rolesDirty: toNumber(row.roles_dirty) === 1,
  };
}

function runFromRow(row: SyncRunsTable): SyncRunRecord {
  return {
    id: row.id,
    connectionId: row.connection_id,
    number: toNumber(row.number),
    mode: row.mode as SyncRunRecord['mode'],
    triggeredBy: row.triggered_by as SyncRunRecord['triggeredBy'],
    actor: { type: row.actor_type, id: row.actor_id ?? undefined },
    status: row.status as SyncRunStatus,
    reason: row.reason ?? undefined,
    message: row.message ?? undefined,
    confirmDeletions: toNumber(row.confirm_deletions) === 1,
    startedAt: toNumber(row.started_at),
    heartbeatAt: toNumber(row.heartbeat_at),
    finishedAt: toOptionalNumber(row.finished_at),
    progress: parseJson<Record<string, unknown> | undefined>(row.progress, undefined),
    report: parseJson<Record<string, unknown> | undefined>(row.report, undefined),
  };
}

function objectFromRow(row: SyncObjectsTable): SyncObjectRecord {
  return {
    kind: row.kind as SyncObjectKind,
    externalId: row.external_id,
    objectId: row.object_id,
    dn: row.dn,
    dnKey: row.dn_key,
    seenRun: toNumber(row.seen_run),
    missingSince: toOptionalNumber(row.missing_since),
  };
}

export interface LeaseRequest {
  connectionId: string;
  owner: string;
  runId: string;
  now: number;
  until: number;
  /** Also take the lease from this owner (a process on this host that no longer exists). */
  takeOverFrom?: string | undefined;
  /** Scheduled runs: only when no run started after this time (another process may have just run it). */
  startedNotAfter?: number | undefined;
}

export class SyncRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
  ) {}

  // ---- state and lease -------------------------------------------------------------------

  async getState(connectionId: string): Promise<SyncStateRecord | undefined> {
    const row = await this.db
      .selectFrom('sync_states')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .executeTakeFirst();
    return row && stateFromRow(row);
  }

  async ensureState(connectionId: string): Promise<void> {
    await this.db
      .insertInto('sync_states')
      .values({ tenant_id: this.tenantId, connection_id: connectionId, run_counter: 0, roles_dirty: 0 })
      .onConflict((oc) => oc.columns(['tenant_id', 'connection_id']).doNothing())
      .execute();
  }

  /**
   * Takes the connection's lease with one conditional update (a compare-and-set that only one
   * process can win, on SQLite and PostgreSQL alike) and numbers the run. Returns the run's
   * number, or undefined when another live run holds the lease.
   */
  async acquireLease(request: LeaseRequest): Promise<number | undefined> {
    const result = await this.db
      .updateTable('sync_states')
      .set((eb) => ({
        lease_owner: request.owner,
        lease_until: request.until,
        lease_run_id: request.runId,
        run_counter: eb('run_counter', '+', 1),
        last_started_at: request.now,
      }))
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', request.connectionId)
      .where((eb) =>
        eb.or([
          eb('lease_until', 'is', null),
          eb('lease_until', '<', request.now),
          ...(request.takeOverFrom ? [eb('lease_owner', '=', request.takeOverFrom)] : []),
        ]),
      )
      .where((eb) =>
        request.startedNotAfter === undefined ? eb.lit(true) : eb.or([eb('last_started_at', 'is', null), eb('last_started_at', '<=', request.startedNotAfter)]),
      )
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return (await this.getState(request.connectionId))!.runCounter;
  }

  /** Extends the lease; false when it is no longer ours (it expired and another run took it). */
  async renewLease(connectionId: string, owner: string, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sync_states')
      .set({ lease_until: until })
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseLease(connectionId: string, owner: string): Promise<void> {
    await this.db
      .updateTable('sync_states')
      .set({ lease_owner: null, lease_until: null, lease_run_id: null })
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('lease_owner', '=', owner)
      .execute();
  }

  async updateState(
    connectionId: string,
    patch: Partial<Pick<SyncStateRecord, 'lastSuccessAt' | 'lastFullAt' | 'lastListingAt' | 'mark' | 'settingsFingerprint' | 'rolesDirty'>>,
  ): Promise<void> {
    const set: Partial<SyncStatesTable> = {};
    if ('lastSuccessAt' in patch) set.last_success_at = patch.lastSuccessAt ?? null;
    if ('lastFullAt' in patch) set.last_full_at = patch.lastFullAt ?? null;
    if ('lastListingAt' in patch) set.last_listing_at = patch.lastListingAt ?? null;
    if ('mark' in patch) set.mark = patch.mark ?? null;
    if ('settingsFingerprint' in patch) set.settings_fingerprint = patch.settingsFingerprint ?? null;
    if ('rolesDirty' in patch) set.roles_dirty = patch.rolesDirty ? 1 : 0;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('sync_states').set(set).where('tenant_id', '=', this.tenantId).where('connection_id', '=', connectionId).execute();
  }

  // ---- runs ------------------------------------------------------------------------------

  async insertRun(run: SyncRunRecord): Promise<void> {
    await this.db
      .insertInto('sync_runs')
      .values({
        tenant_id: this.tenantId,
        id: run.id,
        connection_id: run.connectionId,
        number: run.number,
        mode: run.mode,
        triggered_by: run.triggeredBy,
        actor_type: run.actor.type,
        actor_id: run.actor.id ?? null,
        status: run.status,
        reason: run.reason ?? null,
        message: run.message ?? null,
        confirm_deletions: run.confirmDeletions ? 1 : 0,
        started_at: run.startedAt,
        heartbeat_at: run.heartbeatAt,
        finished_at: run.finishedAt ?? null,
        progress: run.progress ? toJson(run.progress) : null,
        report: run.report ? toJson(run.report) : null,
      })
      .execute();
  }

  async updateRun(
    id: string,
    patch: Partial<Pick<SyncRunRecord, 'mode' | 'status' | 'reason' | 'message' | 'heartbeatAt' | 'finishedAt' | 'progress' | 'report'>>,
  ): Promise<void> {
    const set: Partial<SyncRunsTable> = {};
    if (patch.mode !== undefined) set.mode = patch.mode;
    if (patch.status !== undefined) set.status = patch.status;
    if ('reason' in patch) set.reason = patch.reason ?? null;
    if ('message' in patch) set.message = patch.message ?? null;
    if (patch.heartbeatAt !== undefined) set.heartbeat_at = patch.heartbeatAt;
    if ('finishedAt' in patch) set.finished_at = patch.finishedAt ?? null;
    if ('progress' in patch) set.progress = patch.progress ? toJson(patch.progress) : null;
    if ('report' in patch) set.report = patch.report ? toJson(patch.report) : null;
    await this.db.updateTable('sync_runs').set(set).where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
  }

  async getRun(id: string): Promise<SyncRunRecord | undefined> {
    const row = await this.db.selectFrom('sync_runs').selectAll().where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return row && runFromRow(row);
  }

  /** Newest first. */
  async listRuns(connectionId: string, options: { limit: number; status?: SyncRunStatus | undefined }): Promise<SyncRunRecord[]> {
    let q = this.db.selectFrom('sync_runs').selectAll().where('tenant_id', '=', this.tenantId).where('connection_id', '=', connectionId);
    if (options.status) q = q.where('status', '=', options.status);
    const rows = await q.orderBy('number', 'desc').limit(options.limit).execute();
    return rows.map(runFromRow);
  }

  /** Runs left `running` by a process that died: they did not finish. */
  async markInterrupted(connectionId: string, exceptRunId: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('sync_runs')
      .set({ status: 'interrupted', reason: 'sync.interrupted', message: 'the run stopped without finishing (its process ended); a later run took over', finished_at: now })
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('status', '=', 'running')
      .where('id', '<>', exceptRunId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  // ---- ledger ----------------------------------------------------------------------------

  async objectsByExternalId(connectionId: string, kind: SyncObjectKind, externalIds: string[]): Promise<Map<string, SyncObjectRecord>> {
    const out = new Map<string, SyncObjectRecord>();
    for (const part of chunks([...new Set(externalIds)])) {
      const rows = await this.db
        .selectFrom('sync_objects')
        .selectAll()
        .where('tenant_id', '=', this.tenantId)
        .where('connection_id', '=', connectionId)
        .where('kind', '=', kind)
        .where('external_id', 'in', part)
        .execute();
      for (const row of rows) out.set(row.external_id, objectFromRow(row));
    }
    return out;
  }

  async objectsByDnKey(connectionId: string, dnKeys: string[]): Promise<SyncObjectRecord[]> {
    const out: SyncObjectRecord[] = [];
    for (const part of chunks([...new Set(dnKeys)])) {
      const rows = await this.db
        .selectFrom('sync_objects')
        .selectAll()
        .where('tenant_id', '=', this.tenantId)
        .where('connection_id', '=', connectionId)
        .where('dn_key', 'in', part)
        .execute();
      out.push(...rows.map(objectFromRow));
    }
    return out;
  }

  async insertObjects(connectionId: string, records: SyncObjectRecord[]): Promise<void> {
    // Nine columns a row: 500 rows stay under SQLite's and PostgreSQL's parameter limits.
    for (const part of chunks(records)) {
      await this.db
        .insertInto('sync_objects')
        .values(
          part.map((r) => ({
            tenant_id: this.tenantId,
            connection_id: connectionId,
            kind: r.kind,
            external_id: r.externalId,
            object_id: r.objectId,
            dn: r.dn,
            dn_key: r.dnKey,
            seen_run: r.seenRun,
            missing_since: r.missingSince ?? null,
          })),
        )
        .execute();
    }
  }

  async updateObject(
    connectionId: string,
    kind: SyncObjectKind,
    externalId: string,
    patch: Partial<Pick<SyncObjectRecord, 'objectId' | 'dn' | 'dnKey' | 'seenRun' | 'missingSince'>>,
  ): Promise<void> {
    const set: Partial<SyncObjectsTable> = {};
    if (patch.objectId !== undefined) set.object_id = patch.objectId;
    if (patch.dn !== undefined) set.dn = patch.dn;
    if (patch.dnKey !== undefined) set.dn_key = patch.dnKey;
    if (patch.seenRun !== undefined) set.seen_run = patch.seenRun;
    if ('missingSince' in patch) set.missing_since = patch.missingSince ?? null;
    if (Object.keys(set).length === 0) return;
    await this.db
      .updateTable('sync_objects')
      .set(set)
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('kind', '=', kind)
      .where('external_id', '=', externalId)
      .execute();
  }

  /** Marks entries as present in the directory in this run (one statement per few hundred). */
  async markSeen(connectionId: string, kind: SyncObjectKind, externalIds: string[], run: number): Promise<number> {
    let n = 0;
    for (const part of chunks(externalIds)) {
      const result = await this.db
        .updateTable('sync_objects')
        .set({ seen_run: run })
        .where('tenant_id', '=', this.tenantId)
        .where('connection_id', '=', connectionId)
        .where('kind', '=', kind)
        .where('external_id', 'in', part)
        .where('seen_run', '<', run)
        .executeTakeFirst();
      n += Number(result.numUpdatedRows);
    }
    return n;
  }

  /** Objects present until now that this run did not see, in a stable order (keyset pages). */
  async unseen(connectionId: string, kind: SyncObjectKind, run: number, page: { after?: string | undefined; limit: number }): Promise<SyncObjectRecord[]> {
    let q = this.db
      .selectFrom('sync_objects')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('kind', '=', kind)
      .where('seen_run', '<', run)
      .where('missing_since', 'is', null);
    if (page.after !== undefined) q = q.where('external_id', '>', page.after);
    return (await q.orderBy('external_id').limit(page.limit).execute()).map(objectFromRow);
  }

  async countUnseen(connectionId: string, kind: SyncObjectKind, run: number): Promise<number> {
    const row = await this.db
      .selectFrom('sync_objects')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('kind', '=', kind)
      .where('seen_run', '<', run)
      .where('missing_since', 'is', null)
      .executeTakeFirst();
    return toNumber(row?.n);
  }

  /** Objects of the connection that are present (not missing). */
  async countPresent(connectionId: string, kind: SyncObjectKind): Promise<number> {
    const row = await this.db
      .selectFrom('sync_objects')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('kind', '=', kind)
      .where('missing_since', 'is', null)
      .executeTakeFirst();
    return toNumber(row?.n);
  }

  /** How many of these ids are present objects of the connection (a presence scan that finds them all has nothing to mark). */
  async countPresentAmong(connectionId: string, kind: SyncObjectKind, externalIds: string[]): Promise<number> {
    let n = 0;
    for (const part of chunks(externalIds)) {
      const row = await this.db
        .selectFrom('sync_objects')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant_id', '=', this.tenantId)
        .where('connection_id', '=', connectionId)
        .where('kind', '=', kind)
        .where('external_id', 'in', part)
        .where('missing_since', 'is', null)
        .executeTakeFirst();
      n += toNumber(row?.n);
    }
    return n;
  }

  /** Missing objects whose grace period is over (missing since strictly before `before`). */
  async missingBefore(connectionId: string, kind: SyncObjectKind, before: number, page: { after?: string | undefined; limit: number }): Promise<SyncObjectRecord[]> {
    let q = this.db
      .selectFrom('sync_objects')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('kind', '=', kind)
      .where('missing_since', 'is not', null)
      .where('missing_since', '<', before);
    if (page.after !== undefined) q = q.where('external_id', '>', page.after);
    return (await q.orderBy('external_id').limit(page.limit).execute()).map(objectFromRow);
  }

  async countMissing(connectionId: string, kind: SyncObjectKind): Promise<number> {
    const row = await this.db
      .selectFrom('sync_objects')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('kind', '=', kind)
      .where('missing_since', 'is not', null)
      .executeTakeFirst();
    return toNumber(row?.n);
  }

  async deleteObject(connectionId: string, kind: SyncObjectKind, externalId: string): Promise<void> {
    await this.db
      .deleteFrom('sync_objects')
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .where('kind', '=', kind)
      .where('external_id', '=', externalId)
      .execute();
  }

  /**
   * Users (or groups) of the connection's source that the ledger does not know: brought in by
   * sign-in before any sync ran. The sync takes them over so that they too are disabled when
   * their entry is gone.
   */
  async untracked(connectionId: string, kind: SyncObjectKind, source: string, page: { after?: string | undefined; limit: number }): Promise<Array<{ id: string; externalId: string; dn: string | undefined }>> {
    if (kind === 'user') {
      let q = this.db
        .selectFrom('users as u')
        .select(['u.id', 'u.external_id', 'u.attributes'])
        .where('u.tenant_id', '=', this.tenantId)
        .where('u.source', '=', source)
        .where('u.external_id', 'is not', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('sync_objects as o')
                .select('o.object_id')
                .where('o.tenant_id', '=', this.tenantId)
                .where('o.connection_id', '=', connectionId)
                .where('o.kind', '=', 'user')
                .whereRef('o.external_id', '=', 'u.external_id'),
            ),
          ),
        );
      if (page.after !== undefined) q = q.where('u.id', '>', page.after);
      const rows = await q.orderBy('u.id').limit(page.limit).execute();
      return rows.map((r) => ({ id: r.id, externalId: r.external_id!, dn: parseJson<{ ldapDn?: string }>(r.attributes, {}).ldapDn }));
    }
    let q = this.db
      .selectFrom('groups as g')
      .select(['g.id', 'g.external_id', 'g.name'])
      .where('g.tenant_id', '=', this.tenantId)
      .where('g.source', '=', source)
      .where('g.external_id', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('sync_objects as o')
              .select('o.object_id')
              .where('o.tenant_id', '=', this.tenantId)
              .where('o.connection_id', '=', connectionId)
              .where('o.kind', '=', 'group')
              .whereRef('o.external_id', '=', 'g.external_id'),
          ),
        ),
      );
    if (page.after !== undefined) q = q.where('g.id', '>', page.after);
    const rows = await q.orderBy('g.id').limit(page.limit).execute();
    return rows.map((r) => ({ id: r.id, externalId: r.external_id!, dn: r.name }));
  }

  // ---- retries ---------------------------------------------------------------------------

  async listRetries(connectionId: string, limit: number): Promise<SyncRetryRecord[]> {
    const rows = await this.db
      .selectFrom('sync_retries')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .orderBy('first_failed_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      kind: r.kind as SyncObjectKind,
      ref: r.ref,
      dn: r.dn,
      reason: r.reason,
      attempts: toNumber(r.attempts),
      firstFailedAt: toNumber(r.first_failed_at),
      lastFailedAt: toNumber(r.last_failed_at),
    }));
  }

  async countRetries(connectionId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sync_retries')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('connection_id', '=', connectionId)
      .executeTakeFirst();
    return toNumber(row?.n);
  }

  async recordFailure(connectionId: string, failure: { kind: SyncObjectKind; ref: string; dn: string; reason: string }, now: number): Promise<void> {
    await this.db
      .insertInto('sync_retries')
      .values({
        tenant_id: this.tenantId,
        connection_id: connectionId,
        kind: failure.kind,
        ref: failure.ref,
        dn: failure.dn,
        reason: failure.reason,
        attempts: 1,
        first_failed_at: now,
        last_failed_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'connection_id', 'kind', 'ref']).doUpdateSet((eb) => ({
          dn: failure.dn,
          reason: failure.reason,
          attempts: eb('sync_retries.attempts', '+', 1),
          last_failed_at: now,
        })),
      )
      .execute();
  }

  async clearRetries(connectionId: string, kind: SyncObjectKind, refs: string[]): Promise<void> {
    for (const part of chunks(refs)) {
      await this.db
        .deleteFrom('sync_retries')
        .where('tenant_id', '=', this.tenantId)
        .where('connection_id', '=', connectionId)
        .where('kind', '=', kind)
        .where('ref', 'in', part)
        .execute();
    }
  }
}
