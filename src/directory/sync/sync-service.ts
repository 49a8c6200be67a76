import { randomId } from '../../crypto/secrets.js';
import { GatehouseError, isGatehouseError, notFound } from '../../errors/gatehouse-error.js';
import type { Actor, AuditLog } from '../../audit/audit-log.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging/logger.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { SyncRunRecord, SyncRunStatus, SyncStateRecord } from '../../store/repositories/sync-repository.js';
import { parseTenantSettings } from '../../tenants/tenant-settings.js';
import type { LdapConnectionRecord, LdapConnectionService } from '../../connectors/ldap/ldap-connection-service.js';
import { describeMark, formatMark, parseMark } from '../../connectors/ldap/ldap-change-marks.js';
import { LdapDirectorySource } from '../../connectors/ldap/ldap-directory-source.js';
import { ldapSource } from '../../connectors/ldap/ldap-password-connector.js';
import { DryRunTarget } from './dry-run-target.js';
import { LiveTarget } from './live-target.js';
import { currentFingerprint, parseFingerprint } from './settings-guard.js';
import type { SyncChange } from './sync-changes.js';
import { lockedError, ownerIsGoneHere, SyncLease } from './sync-lease.js';
import { SyncReport, type ReportView } from './sync-report.js';
import { runPhases, type RunnerInput, type RunnerOutcome } from './sync-runner.js';

/** How often a running run writes its progress (and heartbeat) to the store. */
const PROGRESS_FLUSH_MS = 1000;
/** How often a caller's progress callback (the CLI's bar) is called. */
const PROGRESS_CALLBACK_MS = 200;

export interface SyncRunOptions {
  trigger: 'schedule' | 'cli';
  actor: Actor;
  /** Read the whole directory even when an incremental run is possible. */
  full?: boolean | undefined;
  /** Lift the deletion threshold and the settings-changed guard for this run (an admin's explicit decision). */
  confirmDeletions?: boolean | undefined;
  onProgress?: ((progress: ReturnType<SyncReport['progress']>) => void) | undefined;
  onChange?: ((change: SyncChange) => void) | undefined;
  /** Ends the run between pages (server shutdown): it is then recorded as failed, `sync.aborted`. */
  signal?: AbortSignal | undefined;
  /** Scheduled runs: skip, without error, when another process started a run after this time. */
  startedNotAfter?: number | undefined;
}

export interface SyncRunResult {
  runId: string;
  connectionId: string;
  number: number;
  mode: 'full' | 'incremental';
  status: SyncRunStatus;
  reason: string | undefined;
  message: string | undefined;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  server: string | undefined;
  markBefore: string;
  markAfter: string;
  report: ReportView;
}

export interface DryRunResult {
  connectionId: string;
  mode: 'full' | 'incremental';
  /** What a run would come to: `succeeded`, or `stopped` with the reason. */
  outcome: 'succeeded' | 'stopped';
  reason: string | undefined;
  message: string | undefined;
  durationMs: number;
  server: string;
  report: ReportView;
}

export interface SyncServiceOptions {
  connections: LdapConnectionService;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  leaseSeconds: number;
}

interface LoadedConnection {
  record: LdapConnectionRecord;
  bindPassword: string | undefined;
  sealed: string | undefined;
}

/**
 * Directory synchronization of a tenant's LDAP connections (issue 8): runs (scheduled and on
 * demand), dry runs, status and history. A run is: take the connection's lease, read the
 * directory through one session (paged, streamed), apply what differs object by object, then
 * record the report, move the high-water mark if the run succeeded, and release the lease.
 */
export class SyncService {
  constructor(private readonly options: SyncServiceOptions) {}

  private async load(store: TenantStore, connectionId: string): Promise<LoadedConnection> {
    const found = (await this.options.connections.loadWithSecrets(store)).find((c) => c.record.id === connectionId);
    if (!found) throw notFound('ldap.connection_not_found', `no LDAP connection "${connectionId}" in tenant "${store.tenantId}"`);
    return found;
  }

  private async deleteAfterDays(store: TenantStore): Promise<number> {
    return parseTenantSettings((await store.tenant())?.settings).sync.deleteAfterDays;
  }

  /** What a live run and a dry run give the runner alike: the connection, its state and the settings guard's fingerprints. */
  private runnerInput(
    loaded: LoadedConnection,
    connectionId: string,
    state: SyncStateRecord | undefined,
    options: { full?: boolean | undefined; confirmDeletions?: boolean | undefined },
  ): Pick<RunnerInput, 'settings' | 'connectionId' | 'source' | 'state' | 'mark' | 'stored' | 'current' | 'requestFull' | 'confirmed'> {
    return {
      settings: loaded.record.settings,
      connectionId,
      source: ldapSource(connectionId),
      state,
      mark: parseMark(state?.mark),
      stored: parseFingerprint(state?.settingsFingerprint),
      current: currentFingerprint(loaded.record.settings, loaded.sealed),
      requestFull: Boolean(options.full),
      confirmed: Boolean(options.confirmDeletions),
    };
  }

  private source(store: TenantStore, loaded: LoadedConnection): LdapDirectorySource {
    return new LdapDirectorySource({
      connectionId: loaded.record.id,
      settings: loaded.record.settings,
      bindPassword: loaded.bindPassword,
      clock: this.options.clock,
      logger: this.options.logger.child({ tenant: store.tenantId, ldapConnection: loaded.record.id, component: 'sync' }),
    });
  }

  /** The totals of the last successful full run, to show progress as a share. */
  private async expected(store: TenantStore, connectionId: string): Promise<{ users: number | undefined; groups: number | undefined }> {
    const [last] = (await store.sync.listRuns(connectionId, { limit: 20, status: 'succeeded' })).filter((r) => r.mode === 'full');
    const report = last?.report as ReportView | undefined;
    return { users: report?.users.read, groups: report?.groups.read };
  }

  /**
   * A run. Throws `sync.locked` when another run of the connection is going on (scheduled runs
   * get undefined instead). Failures of the run itself (the directory unavailable, a lost lease)
   * are recorded in its history and returned with status `failed`.
   */
  async run(store: TenantStore, connectionId: string, options: SyncRunOptions): Promise<SyncRunResult | undefined> {
    const { clock, logger } = this.options;
    const loaded = await this.load(store, connectionId);
    const runId = randomId();
    const acquired = await SyncLease.acquire({
      store,
      connectionId,
      runId,
      clock,
      leaseMs: this.options.leaseSeconds * 1000,
      logger,
      startedNotAfter: options.startedNotAfter,
    });
    if (!acquired.ok) {
      if (options.trigger === 'schedule') return undefined;
      throw lockedError(connectionId, acquired);
    }
    const { lease, runNumber } = acquired;
    const startedAt = clock.now();
    const started = performance.now();
    const report = new SyncReport();
    if (options.onChange) report.onChange(options.onChange);
    if (options.onProgress) report.onPhase(() => options.onProgress!(report.progress()));
    let mode: 'full' | 'incremental' = options.full ? 'full' : 'incremental';
    let outcome: RunnerOutcome | undefined;
    let failure: { code: string; message: string } | undefined;
    let markBefore: string | undefined;
    let markAfter: string | undefined;
    const timers: NodeJS.Timeout[] = [];
    let flushing: Promise<void> = Promise.resolve();
    const flush = () => {
      flushing = flushing
        .then(() => store.sync.updateRun(runId, { progress: report.progress(), heartbeatAt: clock.now(), mode }))
        .catch((error: unknown) => logger.warn({ err: error }, 'could not record sync progress'));
      return flushing;
    };
    try {
      const interrupted = await store.sync.markInterrupted(connectionId, runId, startedAt);
      if (interrupted) report.note(`${interrupted} earlier run(s) had stopped without finishing; this run takes over`);
      const state = await store.sync.getState(connectionId);
      markBefore = state?.mark;
      const current = currentFingerprint(loaded.record.settings, loaded.sealed);
      Object.assign(report.expected, await this.expected(store, connectionId));
      await store.sync.insertRun({
        id: runId,
        connectionId,
        number: runNumber,
        mode,
        triggeredBy: options.trigger,
        actor: { type: options.actor.type, id: options.actor.id },
        status: 'running',
        reason: undefined,
        message: undefined,
        confirmDeletions: Boolean(options.confirmDeletions),
        startedAt,
        heartbeatAt: startedAt,
        finishedAt: undefined,
        progress: report.progress(),
        report: undefined,
      });
      timers.push(setInterval(() => void flush(), PROGRESS_FLUSH_MS));
      if (options.onProgress) timers.push(setInterval(() => options.onProgress!(report.progress()), PROGRESS_CALLBACK_MS));
      for (const t of timers) t.unref();
      const deleteAfterDays = await this.deleteAfterDays(store);
      const target = new LiveTarget({
        store,
        connectionId,
        run: runNumber,
        report,
        origin: { actor: options.actor, via: `sync:${connectionId}` },
        retrying: new Set((await store.sync.listRetries(connectionId, 100_000)).map((r) => `${r.kind}:${r.ref}`)),
        checkLease: () => lease.check(),
        clock,
      });
      const source = this.source(store, loaded);
      try {
        outcome = await source.read((reader) =>
          runPhases(
            {
              ...this.runnerInput(loaded, connectionId, state, options),
              target,
              deleteAfterDays,
              now: startedAt,
              logger,
              signal: options.signal,
              onMode: async (m) => {
                mode = m;
                await flush();
              },
            },
            reader,
          ),
        );
      } finally {
        await source.close();
      }
      lease.check();
      if (outcome.status === 'succeeded') {
        markAfter = formatMark(outcome.mark);
        await store.sync.updateState(connectionId, {
          mark: markAfter,
          lastSuccessAt: startedAt,
          ...(outcome.mode === 'full' ? { lastFullAt: startedAt } : {}),
          ...(outcome.listed ? { lastListingAt: startedAt } : {}),
          settingsFingerprint: JSON.stringify(current),
        });
      }
    } catch (error) {
      failure = this.describeFailure(error, options.signal);
      if (!isGatehouseError(error)) logger.error({ err: error, connection: connectionId, runId }, 'sync run failed');
      else logger.warn({ code: error.code, reason: error.message, connection: connectionId, runId }, 'sync run failed');
    } finally {
      for (const t of timers) clearInterval(t);
      await flushing;
    }
    const finishedAt = clock.now();
    const status: SyncRunStatus = failure ? 'failed' : outcome!.status;
    const reason = failure?.code ?? outcome?.reason;
    const message = failure?.message ?? outcome?.message;
    const view = report.view();
    const result: SyncRunResult = {
      runId,
      connectionId,
      number: runNumber,
      mode: outcome?.mode ?? mode,
      status,
      reason,
      message,
      startedAt,
      finishedAt,
      durationMs: Math.round(performance.now() - started),
      server: outcome?.server,
      markBefore: describeMark(parseMark(markBefore)),
      markAfter: describeMark(parseMark(markAfter ?? markBefore)),
      report: view,
    };
    try {
      await store.sync.updateRun(runId, {
        mode: result.mode,
        status,
        reason,
        message,
        finishedAt,
        heartbeatAt: finishedAt,
        progress: report.progress(),
        report: { ...view, durationMs: result.durationMs, server: result.server, markBefore: result.markBefore, markAfter: result.markAfter },
      });
      if (options.trigger !== 'schedule' || status !== 'succeeded' || report.changed) {
        await this.options.audit.record(store, {
          actor: options.actor,
          action: 'sync.run',
          target: { type: 'ldap_connection', id: connectionId },
          outcome: status === 'succeeded' ? 'success' : 'failure',
          reason,
          details: {
            runId,
            mode: result.mode,
            trigger: options.trigger,
            confirmDeletions: Boolean(options.confirmDeletions),
            durationMs: result.durationMs,
            users: view.users,
            groups: view.groups,
            memberships: view.memberships,
            held: view.held,
            missing: view.missing,
            errors: view.errorCount,
          },
        });
      }
    } finally {
      await lease.release().catch((error: unknown) => logger.warn({ err: error }, 'could not release the sync lease (it expires)'));
    }
    return result;
  }

  private describeFailure(error: unknown, signal: AbortSignal | undefined): { code: string; message: string } {
    if (signal?.aborted) return { code: 'sync.aborted', message: 'the run was stopped (the server is shutting down); the next run starts over' };
    if (isGatehouseError(error)) {
      if (error.code === 'ldap.directory_unavailable') return { code: error.code, message: (error as GatehouseError & { summary?: string }).summary ?? error.message };
      return { code: error.code, message: error.message };
    }
    return { code: 'sync.internal_error', message: 'the run failed on an internal error (details in the server log)' };
  }

  /** What a run would do now, without writing anything: no row, no change-feed entry, no audit event. */
  async dryRun(store: TenantStore, connectionId: string, options: { full?: boolean | undefined; confirmDeletions?: boolean | undefined; onChange?: ((change: SyncChange) => void) | undefined } = {}): Promise<DryRunResult> {
    const loaded = await this.load(store, connectionId);
    const state = await store.sync.getState(connectionId);
    const report = new SyncReport();
    if (options.onChange) report.onChange(options.onChange);
    const started = performance.now();
    const target = new DryRunTarget(store, connectionId, (state?.runCounter ?? 0) + 1, report);
    const source = this.source(store, loaded);
    const deleteAfterDays = await this.deleteAfterDays(store);
    try {
      const outcome = await source.read((reader) =>
        runPhases(
          {
            ...this.runnerInput(loaded, connectionId, state, options),
            target,
            deleteAfterDays,
            now: this.options.clock.now(),
            logger: this.options.logger,
            signal: undefined,
          },
          reader,
        ),
      );
      return {
        connectionId,
        mode: outcome.mode,
        outcome: outcome.status === 'succeeded' ? 'succeeded' : 'stopped',
        reason: outcome.reason,
        message: outcome.message,
        durationMs: Math.round(performance.now() - started),
        server: outcome.server,
        report: report.view(),
      };
    } finally {
      await source.close();
    }
  }

  /** The connection's sync state: a run going on (with its progress, from the store), the last run, the ledger's counts. */
  async status(store: TenantStore, connectionId: string) {
    const loaded = await this.load(store, connectionId);
    const settings = loaded.record.settings;
    const state = await store.sync.getState(connectionId);
    const [latest] = await store.sync.listRuns(connectionId, { limit: 1 });
    const [lastFinished] = (await store.sync.listRuns(connectionId, { limit: 10 })).filter((r) => r.status !== 'running');
    const now = this.options.clock.now();
    const running = latest?.status === 'running' ? latest : undefined;
    const stored = parseFingerprint(state?.settingsFingerprint);
    const users = await store.sync.countPresent(connectionId, 'user');
    const groups = await store.sync.countPresent(connectionId, 'group');
    return {
      connection: connectionId,
      schedule: settings.sync.enabled
        ? {
            enabled: true,
            intervalMinutes: settings.sync.intervalMinutes,
            fullEveryHours: settings.sync.fullEveryHours,
            nextRunAt: state?.lastStartedAt === undefined ? now : state.lastStartedAt + settings.sync.intervalMinutes * 60_000,
          }
        : { enabled: false, intervalMinutes: settings.sync.intervalMinutes, fullEveryHours: settings.sync.fullEveryHours, nextRunAt: undefined },
      running: running
        ? {
            ...summarise(running),
            holder: state?.leaseOwner,
            // A lease that ran out, or whose process is gone from this host: the next run takes over.
            stale: state?.leaseUntil === undefined || state.leaseUntil < now || (state.leaseOwner !== undefined && ownerIsGoneHere(state.leaseOwner)),
          }
        : undefined,
      lastRun: lastFinished ? summarise(lastFinished) : undefined,
      lastSuccessAt: state?.lastSuccessAt,
      lastFullAt: state?.lastFullAt,
      mark: describeMark(parseMark(state?.mark)),
      settingsChangedSinceLastRun: stored !== undefined && stored.scope !== currentFingerprint(settings, loaded.sealed).scope,
      objects: {
        users,
        groups,
        missingUsers: await store.sync.countMissing(connectionId, 'user'),
        missingGroups: await store.sync.countMissing(connectionId, 'group'),
        retries: await store.sync.countRetries(connectionId),
      },
      deletionThreshold: settings.sync.deletionThreshold,
      deleteAfterDays: await this.deleteAfterDays(store),
    };
  }

  async history(store: TenantStore, connectionId: string, options: { limit: number }) {
    await this.load(store, connectionId);
    return (await store.sync.listRuns(connectionId, { limit: options.limit })).map(summarise);
  }

  /** One run with its whole report (errors per object included). */
  async getRun(store: TenantStore, connectionId: string, runId: string): Promise<SyncRunRecord> {
    const run = await store.sync.getRun(runId);
    if (!run || run.connectionId !== connectionId) throw notFound('sync.run_not_found', `no sync run "${runId}" of connection ${connectionId}`);
    return run;
  }
}

/** A run for lists: what, when, how it ended, counts (the error list only in getRun). */
export function summarise(run: SyncRunRecord) {
  const report = (run.report ?? run.progress) as Partial<ReportView> | undefined;
  return {
    id: run.id,
    number: run.number,
    mode: run.mode,
    trigger: run.triggeredBy,
    actor: run.actor,
    status: run.status,
    reason: run.reason,
    message: run.message,
    confirmDeletions: run.confirmDeletions,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    heartbeatAt: run.heartbeatAt,
    phase: report?.phase,
    users: report?.users,
    groups: report?.groups,
    memberships: report?.memberships,
    roles: report?.roles,
    held: report?.held,
    missing: report?.missing,
    expected: report?.expected,
    errorCount: report?.errorCount ?? 0,
  };
}
