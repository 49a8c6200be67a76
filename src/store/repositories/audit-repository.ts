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

  /** Multi-row inserts by row count, built and checked by the tenant guard once each. */
  private readonly inserts = new Map<number, CompiledQuery>();

  /**
   * Several events in a few statements (the buffered writer of high-volume events): chunks of
   * 32, 8 and 1 rows, so that only three statement shapes are ever built. Building an insert per
   * event cost more than SQLite's insert itself; and one statement per chunk, rather than a
   * transaction around the batch, never holds the (single, on SQLite) connection across awaits.
   */
  async appendMany(events: AuditEvent[]): Promise<void> {
    for (let i = 0; i < events.length; ) {
      const left = events.length - i;
      const size = left >= 32 ? 32 : left >= 8 ? 8 : 1;
      const rows = events.slice(i, i + size).map((e) => this.toRow(e));
      i += size;
      let insert = this.inserts.get(size);
      if (!insert) {
        insert = this.db.insertInto('audit_events').values(rows).compile();
        this.inserts.set(size, insert);
      }
      await this.db.executeQuery({ ...insert, parameters: rows.flatMap((row) => Object.values(row)) });
    }
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
