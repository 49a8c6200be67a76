import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging/logger.js';
import type { Store } from '../../store/store.js';
import { validateSettings } from '../../connectors/ldap/ldap-settings.js';
import type { SyncRunResult, SyncService } from './sync-service.js';

export interface SyncSchedulerOptions {
  store: Store;
  sync: SyncService;
  clock: Clock;
  logger: Logger;
  pollIntervalSeconds: number;
}

/**
 * Runs each LDAP connection's sync on its schedule (`sync.enabled`, every `intervalMinutes`;
 * the run itself decides full or incremental). Every server process may run a scheduler: a
 * run takes the connection's lease, and a scheduled run also checks, in the same
 * compare-and-set, that no other process started one since it found it due, so two processes
 * never run the same schedule twice. Runs go one at a time per process, to keep the load on
 * the directories and the store small. Stopping the scheduler stops the run going on between
 * two pages (it is recorded as `sync.aborted`; the next run starts over).
 */
export class SyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly controller = new AbortController();

  constructor(private readonly options: SyncSchedulerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.options.pollIntervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.controller.abort(new Error('the server is shutting down'));
    await this.running;
  }

  /** One round: every due connection, one after the other. Rounds never overlap. */
  runOnce(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    const { store, sync, clock, logger } = this.options;
    let candidates;
    try {
      candidates = await store.ldapConnectionsForSync();
    } catch (error) {
      logger.warn({ err: error }, 'sync scheduler: could not list connections; will retry');
      return;
    }
    for (const candidate of candidates) {
      if (this.controller.signal.aborted) return;
      let settings;
      try {
        settings = validateSettings(candidate.settings);
      } catch {
        continue; // reported wherever the connection is used
      }
      if (!settings.sync.enabled) continue;
      const now = clock.now();
      const interval = settings.sync.intervalMinutes * 60_000;
      if (candidate.lastStartedAt !== undefined && now - candidate.lastStartedAt < interval) continue;
      let result: SyncRunResult | undefined;
      try {
        result = await sync.run(store.forTenant(candidate.tenantId), candidate.connectionId, {
          trigger: 'schedule',
          actor: { type: 'system', id: 'sync-scheduler' },
          startedNotAfter: now - interval,
          signal: this.controller.signal,
        });
      } catch (error) {
        logger.warn({ err: error, tenant: candidate.tenantId, connection: candidate.connectionId }, 'scheduled sync run could not start');
        continue;
      }
      if (result) {
        const level = result.status === 'succeeded' ? 'info' : 'warn';
        logger[level](
          { tenant: candidate.tenantId, connection: candidate.connectionId, run: result.runId, mode: result.mode, status: result.status, reason: result.reason, durationMs: result.durationMs },
          'scheduled sync run finished',
        );
      }
    }
  }
}
