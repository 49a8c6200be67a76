import type { CompiledQuery, Kysely } from 'kysely';
import type { AuditEventsTable, Database } from '../database.js';
import { parseJson, toNumber } from '../rows.js';

export interface AuditEvent {
  id: string;
  occurredAt: number;
  actorType: string;
  actorId: string | undefined;
  action: string;
  targetType: string | undefined;
  targetId: string | undefined;
  outcome: 'success' | 'failure';
  reason: string | undefined;
  clientIp: string | undefined;
  userAgent: string | undefined;
  requestId: string | undefined;
  details: Record<string, unknown> | undefined;
}

function fromRow(row: AuditEventsTable): AuditEvent {
  return {
    id: row.id,
    occurredAt: toNumber(row.occurred_at),
    actorType: row.actor_type,
    actorId: row.actor_id ?? undefined,
    action: row.action,
    targetType: row.target_type ?? undefined,
    targetId: row.target_id ?? undefined,
    outcome: row.outcome as AuditEvent['outcome'],
    reason: row.reason ?? undefined,
    clientIp: row.client_ip ?? undefined,
    userAgent: row.user_agent ?? undefined,
    requestId: row.request_id ?? undefined,
    details: parseJson<Record<string, unknown> | undefined>(row.details, undefined),
  };
}

/** Append-only: there is no update, and deletion happens only when a tenant is deleted. */
export class AuditRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
  ) {}

  async append(event: AuditEvent): Promise<void> {
    await this.db.insertInto('audit_events').values(this.toRow(event)).execute();
  }

  private insertOne: CompiledQuery | undefined;

  /**
   * Several events in one transaction, one commit (the buffered writer of high-volume events).
   * The single-row insert is built and checked by the tenant guard once, then executed with each
   * event's values: building the query per row cost more than SQLite's insert itself.
   */
  async appendMany(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const insert = (this.insertOne ??= this.db.insertInto('audit_events').values(this.toRow(events[0]!)).compile());
    await this.db.transaction().execute(async (trx) => {
      for (const event of events) await trx.executeQuery({ ...insert, parameters: Object.values(this.toRow(event)) });
    });
  }

  /** Every column, in one fixed order: appendMany passes the values positionally. */
  private toRow(event: AuditEvent): AuditEventsTable {
    return {
      tenant_id: this.tenantId,
      id: event.id,
      occurred_at: event.occurredAt,
      actor_type: event.actorType,
      actor_id: event.actorId ?? null,
      action: event.action,
      target_type: event.targetType ?? null,
      target_id: event.targetId ?? null,
      outcome: event.outcome,
      reason: event.reason ?? null,
      client_ip: event.clientIp ?? null,
      user_agent: event.userAgent ?? null,
      request_id: event.requestId ?? null,
      details: event.details ? JSON.stringify(event.details) : null,
    };
  }

  /** Newest first. */
  async list(options: { limit?: number; before?: string; action?: string; since?: number } = {}): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', this.tenantId);
    if (options.before) q = q.where('id', '<', options.before);
    if (options.action) q = q.where('action', 'like', options.action.endsWith('*') ? `${options.action.slice(0, -1)}%` : options.action);
    if (options.since !== undefined) q = q.where('occurred_at', '>=', options.since);
    const rows = await q.orderBy('id', 'desc').limit(options.limit ?? 100).execute();
    return rows.map(fromRow);
  }
}
