import type { Logger } from '../logging/logger.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { AuditEvent } from '../store/repositories/audit-repository.js';
import type { AuditEntry, AuditLog } from './audit-log.js';

/** What records audit events: the AuditLog itself, or this buffer in front of it. */
export interface AuditSink {
  record(store: TenantStore, entry: AuditEntry): Promise<unknown>;
}

export interface AuditBufferOptions {
  /** Write at once when this many events wait. */
  maxEvents?: number;
  /** Otherwise write this long after the first waiting event, in milliseconds. */
  maxDelayMs?: number;
}

/**
 * Writes high-volume audit events (every token issued, refused, exchanged or revoked) in small
 * batches: one multi-row insert per tenant every few milliseconds instead of one insert, one
 * commit, per token. A token endpoint serving a thousand tokens a second would otherwise spend
 * most of its time committing audit rows (on SQLite the write also blocks the event loop).
 *
 * The trade: an event reaches the store up to `maxDelayMs` after it happened, and a crash in
 * that window loses it (a graceful shutdown flushes: Services.close). Events that belong to a
 * change (an app created, a key rotated) are not written here but in the change's transaction.
 */
export class AuditBuffer implements AuditSink {
  private readonly pending = new Map<TenantStore, Array<{ event: AuditEvent; done: () => void }>>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly maxEvents: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    options: AuditBufferOptions = {},
  ) {
    this.maxEvents = options.maxEvents ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 10;
  }

  /**
   * Queues the event. The promise resolves once its batch is stored, or once a failure to store
   * it has been logged (once per batch, not once per event).
   */
  record(store: TenantStore, entry: AuditEntry): Promise<void> {
    const event = this.audit.toEvent(entry);
    return new Promise<void>((resolve) => {
      let queue = this.pending.get(store);
      if (!queue) this.pending.set(store, (queue = []));
      queue.push({ event, done: resolve });
      this.count++;
      if (this.count >= this.maxEvents) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs).unref();
    });
  }

  /** Writes everything queued so far (and waits for writes already under way). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    this.count = 0;
    // One write at a time, in order: events keep their order per tenant.
    this.writing = this.writing.then(() => this.write(batches));
    return this.writing;
  }

  private async write(batches: Array<[TenantStore, Array<{ event: AuditEvent; done: () => void }>]>): Promise<void> {
    for (const [store, queue] of batches) {
      const events = queue.map((q) => q.event);
      try {
        await store.audit.appendMany(events);
        for (const event of events) this.audit.mirror(store.tenantId, event);
      } catch (error) {
        this.logger.error({ err: error, tenant: store.tenantId, events: events.length }, 'could not write audit events');
      }
      for (const q of queue) q.done();
    }
  }
}
