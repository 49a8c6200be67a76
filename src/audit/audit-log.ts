import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../logging/logger.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { AuditEvent } from '../store/repositories/audit-repository.js';

/** Who did it: a person, an app, an operator at the CLI, or Gatehouse itself. */
export interface Actor {
  type: 'user' | 'client' | 'operator' | 'system' | 'anonymous';
  id?: string | undefined;
}

/** Where the request came from, when there was one. */
export interface RequestOrigin {
  clientIp?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export interface AuditEntry {
  actor: Actor;
  /** Dotted, stable names: `tenant.created`, `signin.failed`, `token.issued`, `keys.rotated`. */
  action: string;
  target?: { type: string; id?: string | undefined } | undefined;
  outcome: 'success' | 'failure';
  /** A stable reason code for failures (`password_mismatch`, `account_disabled`). */
  reason?: string | undefined;
  origin?: RequestOrigin | undefined;
  /** Non-secret context. Callers never put passwords, secrets or tokens here. */
  details?: Record<string, unknown> | undefined;
}

/** Random bytes drawn in bulk: one randomBytes call per event costs more than the rest of the id. */
const RANDOM_POOL_SIZE = 6 * 1024;
let randomPool = randomBytes(RANDOM_POOL_SIZE);
let randomOffset = 0;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > RANDOM_POOL_SIZE) {
    randomPool = randomBytes(RANDOM_POOL_SIZE);
    randomOffset = 0;
  }
  const hex = randomPool.toString('hex', randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return hex;
}

let lastMillisecond = -1;
let sequence = 0;

/**
 * Time-ordered ids: 12 hex digits of milliseconds (sorts until the year 10889), 4 hex digits of
 * a sequence within the millisecond (so events of one process sort in the order they happened),
 * then 12 hex digits of randomness (ids from several processes do not collide).
 */
export function auditEventId(at: number): string {
  if (at === lastMillisecond) sequence = (sequence + 1) & 0xffff;
  else {
    lastMillisecond = at;
    sequence = 0;
  }
  return at.toString(16).padStart(12, '0') + sequence.toString(16).padStart(4, '0') + randomHex(6);
}

/**
 * The audit log every part writes to: an append-only record per security-relevant event, in the
 * tenant's own store, mirrored to the process log (at info level) for log shipping.
 */
export class AuditLog {
  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async record(store: TenantStore, entry: AuditEntry): Promise<AuditEvent> {
    const event = this.toEvent(entry);
    await store.audit.append(event);
    this.mirror(store.tenantId, event);
    return event;
  }

  /** The stored form of an entry, stamped now. */
  toEvent(entry: AuditEntry): AuditEvent {
    const occurredAt = this.clock.now();
    return {
      id: auditEventId(occurredAt),
      occurredAt,
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      action: entry.action,
      targetType: entry.target?.type,
      targetId: entry.target?.id,
      outcome: entry.outcome,
      reason: entry.reason,
      clientIp: entry.origin?.clientIp,
      userAgent: entry.origin?.userAgent?.slice(0, 512),
      requestId: entry.origin?.requestId,
      details: entry.details,
    };
  }

  /** The process-log copy of a stored event. */
  mirror(tenantId: string, event: AuditEvent): void {
    this.logger.info({ audit: { tenant: tenantId, ...event } }, `audit ${event.action} ${event.outcome}`);
  }
}
