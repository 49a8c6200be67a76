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

/** Time-ordered ids: 12 hex digits of milliseconds (sorts until the year 10889), then randomness. */
export function auditEventId(at: number): string {
  return at.toString(16).padStart(12, '0') + randomBytes(8).toString('hex');
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
    const occurredAt = this.clock.now();
    const event: AuditEvent = {
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
    await store.audit.append(event);
    this.logger.info({ audit: { tenant: store.tenantId, ...event } }, `audit ${event.action} ${event.outcome}`);
    return event;
  }
}
