import { hostname } from 'node:os';
import { randomId } from '../../crypto/secrets.js';
import { GatehouseError } from '../../errors/gatehouse-error.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging/logger.js';
import type { TenantStore } from '../../store/tenant-store.js';

/** This process's name in leases: host and pid (so a dead process on this host is recognised), and a random part. */
export function leaseOwnerName(): string {
  return `${hostname()}:${process.pid}:${randomId(4)}`;
}

/**
 * Whether a lease owner is a process of this host that no longer exists. Such a lease is taken
 * over at once instead of waiting for it to expire: a run killed with SIGKILL (or a machine
 * crash of a container that restarted) must not block its connection for the lease time. On
 * other hosts only expiry tells.
 */
export function ownerIsGoneHere(owner: string): boolean {
  const m = /^(.*):(\d+):[^:]*$/.exec(owner);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export type LeaseOutcome = { ok: true; lease: SyncLease; runNumber: number } | { ok: false; reason: 'locked' | 'not-due'; holder?: string | undefined; runId?: string | undefined; until?: number | undefined };

export interface LeaseOptions {
  store: TenantStore;
  connectionId: string;
  runId: string;
  clock: Clock;
  leaseMs: number;
  logger: Logger;
  owner?: string;
  /** Scheduled runs: give up when another process started a run after this time. */
  startedNotAfter?: number | undefined;
}

/**
 * One run at a time per connection, across server processes and CLI invocations: a lease row
 * in the store, taken with a compare-and-set, renewed every third of its time while the run
 * lives, released at the end. A process that dies stops renewing, and its lease expires (or is
 * taken over at once on the same host), so a killed run never blocks its connection for long.
 * A run that finds its lease taken by another (it was too slow to renew, e.g. a paused process)
 * stops before its next write.
 */
export class SyncLease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  private constructor(
    private readonly options: LeaseOptions,
    readonly owner: string,
  ) {}

  static async acquire(options: LeaseOptions): Promise<LeaseOutcome> {
    const { store, connectionId, clock, leaseMs } = options;
    const owner = options.owner ?? leaseOwnerName();
    await store.sync.ensureState(connectionId);
    const request = (takeOverFrom?: string) =>
      store.sync.acquireLease({ connectionId, owner, runId: options.runId, now: clock.now(), until: clock.now() + leaseMs, takeOverFrom, startedNotAfter: options.startedNotAfter });
    let runNumber = await request();
    if (runNumber === undefined) {
      const state = await store.sync.getState(connectionId);
      const held = state?.leaseUntil !== undefined && state.leaseUntil >= clock.now();
      if (held && state?.leaseOwner && ownerIsGoneHere(state.leaseOwner)) {
        options.logger.warn({ connection: connectionId, owner: state.leaseOwner }, 'sync lease held by a process that no longer exists on this host: taking it over');
        runNumber = await request(state.leaseOwner);
      }
      if (runNumber === undefined) {
        return held ? { ok: false, reason: 'locked', holder: state?.leaseOwner, runId: state?.leaseRunId, until: state?.leaseUntil } : { ok: false, reason: 'not-due' };
      }
    }
    const lease = new SyncLease(options, owner);
    lease.timer = setInterval(() => void lease.renew(), Math.max(1000, Math.floor(leaseMs / 3)));
    lease.timer.unref();
    return { ok: true, lease, runNumber };
  }

  private async renew(): Promise<void> {
    const { store, connectionId, clock, leaseMs, logger } = this.options;
    try {
      if (!(await store.sync.renewLease(connectionId, this.owner, clock.now() + leaseMs))) {
        this.lost = true;
        logger.error({ connection: connectionId }, 'sync lease lost: another run took over; this run stops');
      }
    } catch (error) {
      // A failed renewal is retried at the next tick; if the lease expires meanwhile, so be it.
      logger.warn({ err: error, connection: connectionId }, 'sync lease renewal failed');
    }
  }

  /** Throws when another run took the lease over: this run must not write any more. */
  check(): void {
    if (this.lost) throw new GatehouseError('sync.lease_lost', 'the run lost its lease to another run (it was too slow to renew it) and stopped', { status: 409 });
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.options.store.sync.releaseLease(this.options.connectionId, this.owner);
  }
}

export function lockedError(connectionId: string, outcome: Extract<LeaseOutcome, { ok: false }>): GatehouseError {
  return new GatehouseError(
    'sync.locked',
    `a sync run of connection ${connectionId} is already running${outcome.runId ? ` (run ${outcome.runId}` : ''}${outcome.holder ? `${outcome.runId ? ', ' : ' ('}held by ${outcome.holder})` : outcome.runId ? ')' : ''}; one run at a time per connection`,
    { status: 409, details: { runId: outcome.runId, holder: outcome.holder, until: outcome.until } },
  );
}
