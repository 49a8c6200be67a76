import type { Kysely } from 'kysely';
import type { Database, WebhookAttemptsTable, WebhookDeliveriesTable, WebhookSubscriptionsTable } from '../database.js';
import { parseJson, toJson, toNumber, toOptionalNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

export interface WebhookSubscriptionRecord {
  id: string;
  url: string;
  description: string | undefined;
  events: string[];
  secretSealed: string;
  enabled: boolean;
  declared: boolean;
  enqueuedSeq: number;
  createdAt: number;
  updatedAt: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryRecord {
  id: string;
  subscriptionId: string;
  seq: number;
  orderingKey: string;
  eventType: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | undefined;
  leaseOwner: string | undefined;
  leaseUntil: number | undefined;
  lastStatusCode: number | undefined;
  lastError: string | undefined;
  createdAt: number;
  updatedAt: number;
  completedAt: number | undefined;
}

export interface WebhookAttemptRecord {
  deliveryId: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | undefined;
  error: string | undefined;
}

const subscriptionFromRow = (row: WebhookSubscriptionsTable): WebhookSubscriptionRecord => ({
  id: row.id,
  url: row.url,
  description: row.description ?? undefined,
  events: parseJson<string[]>(row.events, []),
  secretSealed: row.secret_sealed,
  enabled: toNumber(row.enabled) === 1,
  declared: toNumber(row.declared) === 1,
  enqueuedSeq: toNumber(row.enqueued_seq),
  createdAt: toNumber(row.created_at),
  updatedAt: toNumber(row.updated_at),
});

const deliveryFromRow = (row: WebhookDeliveriesTable): WebhookDeliveryRecord => ({
  id: row.id,
  subscriptionId: row.subscription_id,
  seq: toNumber(row.seq),
  orderingKey: row.ordering_key,
  eventType: row.event_type,
  payload: row.payload,
  status: row.status as DeliveryStatus,
  attempts: toNumber(row.attempts),
  nextAttemptAt: toOptionalNumber(row.next_attempt_at),
  leaseOwner: row.lease_owner ?? undefined,
  leaseUntil: toOptionalNumber(row.lease_until),
  lastStatusCode: toOptionalNumber(row.last_status_code),
  lastError: row.last_error ?? undefined,
  createdAt: toNumber(row.created_at),
  updatedAt: toNumber(row.updated_at),
  completedAt: toOptionalNumber(row.completed_at),
});

const attemptFromRow = (row: WebhookAttemptsTable): WebhookAttemptRecord => ({
  deliveryId: row.delivery_id,
  attempt: toNumber(row.attempt),
  startedAt: toNumber(row.started_at),
  durationMs: toNumber(row.duration_ms),
  statusCode: toOptionalNumber(row.status_code),
  error: row.error ?? undefined,
});

/** Webhook subscriptions of one tenant, their deliveries and the log of delivery attempts. */
export class WebhookRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async insertSubscription(s: Omit<WebhookSubscriptionRecord, 'createdAt' | 'updatedAt'>): Promise<WebhookSubscriptionRecord> {
    const now = this.clock.now();
    const row: WebhookSubscriptionsTable = {
      tenant_id: this.tenantId,
      id: s.id,
      url: s.url,
      description: s.description ?? null,
      events: toJson(s.events),
      secret_sealed: s.secretSealed,
      enabled: s.enabled ? 1 : 0,
      declared: s.declared ? 1 : 0,
      enqueued_seq: s.enqueuedSeq,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('webhook_subscriptions').values(row).execute();
    return subscriptionFromRow(row);
  }

  async updateSubscription(id: string, patch: Partial<Pick<WebhookSubscriptionRecord, 'url' | 'description' | 'events' | 'secretSealed' | 'enabled'>>): Promise<void> {
    const set: Partial<WebhookSubscriptionsTable> = { updated_at: this.clock.now() };
    if (patch.url !== undefined) set.url = patch.url;
    if ('description' in patch) set.description = patch.description ?? null;
    if (patch.events !== undefined) set.events = toJson(patch.events);
    if (patch.secretSealed !== undefined) set.secret_sealed = patch.secretSealed;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    await this.db.updateTable('webhook_subscriptions').set(set).where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
  }

  async getSubscription(id: string): Promise<WebhookSubscriptionRecord | undefined> {
    const row = await this.db.selectFrom('webhook_subscriptions').selectAll().where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return row && subscriptionFromRow(row);
  }

  async listSubscriptions(): Promise<WebhookSubscriptionRecord[]> {
    const rows = await this.db.selectFrom('webhook_subscriptions').selectAll().where('tenant_id', '=', this.tenantId).orderBy('created_at').orderBy('id').execute();
    return rows.map(subscriptionFromRow);
  }

  /** Removes a subscription with its deliveries and their attempts. */
  async deleteSubscription(id: string): Promise<boolean> {
    const deliveryIds = this.db.selectFrom('webhook_deliveries').select('id').where('tenant_id', '=', this.tenantId).where('subscription_id', '=', id);
    await this.db.deleteFrom('webhook_attempts').where('tenant_id', '=', this.tenantId).where('delivery_id', 'in', deliveryIds).execute();
    await this.db.deleteFrom('webhook_deliveries').where('tenant_id', '=', this.tenantId).where('subscription_id', '=', id).execute();
    const result = await this.db.deleteFrom('webhook_subscriptions').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Moves a subscription's enqueue mark from `from` to `to`, only if nobody moved it first: of
   * two dispatchers enqueueing the same changes, one wins and the other's transaction writes
   * nothing (the caller rolls it back).
   */
  async advanceEnqueued(id: string, from: number, to: number): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_subscriptions')
      .set({ enqueued_seq: to })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('enqueued_seq', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async insertDelivery(d: Pick<WebhookDeliveryRecord, 'id' | 'subscriptionId' | 'seq' | 'orderingKey' | 'eventType' | 'payload'>): Promise<void> {
    const now = this.clock.now();
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        tenant_id: this.tenantId,
        id: d.id,
        subscription_id: d.subscriptionId,
        seq: d.seq,
        ordering_key: d.orderingKey,
        event_type: d.eventType,
        payload: d.payload,
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        lease_owner: null,
        lease_until: null,
        last_status_code: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        completed_at: null,
      })
      .execute();
  }

  async getDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return row && deliveryFromRow(row);
  }

  /** The delivery log of a subscription, newest first. */
  async listDeliveries(subscriptionId: string, options: { status?: DeliveryStatus; limit?: number } = {}): Promise<WebhookDeliveryRecord[]> {
    let q = this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('subscription_id', '=', subscriptionId);
    if (options.status) q = q.where('status', '=', options.status);
    const rows = await q.orderBy('seq', 'desc').limit(options.limit ?? 50).execute();
    return rows.map(deliveryFromRow);
  }

  /**
   * Deliveries that may be attempted now: pending, due, not leased by a live dispatcher, and the
   * first pending one of their object for their subscription (a later change of the same object
   * waits until the earlier one is delivered or given up: in order per object).
   */
  async dueHeads(now: number, limit: number): Promise<WebhookDeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries as d')
      .selectAll('d')
      .where('d.tenant_id', '=', this.tenantId)
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', now)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as e')
              .select('e.id')
              .where('e.tenant_id', '=', this.tenantId)
              .whereRef('e.subscription_id', '=', 'd.subscription_id')
              .whereRef('e.ordering_key', '=', 'd.ordering_key')
              .where('e.status', '=', 'pending')
              .whereRef('e.seq', '<', 'd.seq'),
          ),
        ),
      )
      .orderBy('d.seq')
      .limit(limit)
      .execute();
    return rows.map(deliveryFromRow);
  }

  /**
   * Claims a delivery for one dispatcher until `leaseUntil`. The conditional update is the
   * claim: of several dispatchers racing for the same delivery exactly one sees a changed row.
   */
  async claim(id: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: owner, lease_until: leaseUntil, updated_at: now })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Logs an attempt and moves the delivery on: delivered, failed for good, or pending again at
   * `nextAttemptAt`. Only the lease holder may; returns false when the lease was lost.
   */
  async finishAttempt(
    id: string,
    owner: string,
    outcome: { startedAt: number; durationMs: number; statusCode: number | undefined; error: string | undefined; status: DeliveryStatus; nextAttemptAt: number | undefined },
  ): Promise<boolean> {
    const current = await this.getDelivery(id);
    if (!current || current.leaseOwner !== owner || current.status !== 'pending') return false;
    const attempt = current.attempts + 1;
    const now = this.clock.now();
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: outcome.status,
        attempts: attempt,
        next_attempt_at: outcome.status === 'pending' ? (outcome.nextAttemptAt ?? now) : null,
        lease_owner: null,
        lease_until: null,
        last_status_code: outcome.statusCode ?? null,
        last_error: outcome.error ?? null,
        updated_at: now,
        completed_at: outcome.status === 'pending' ? null : now,
      })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('attempts', '=', current.attempts)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await this.db
      .insertInto('webhook_attempts')
      .values({
        tenant_id: this.tenantId,
        delivery_id: id,
        attempt,
        started_at: outcome.startedAt,
        duration_ms: outcome.durationMs,
        status_code: outcome.statusCode ?? null,
        error: outcome.error ?? null,
      })
      .execute();
    return true;
  }

  /** Sends a failed delivery again from its next dispatch on (an admin's retry). */
  async retry(id: string): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: now, completed_at: null, updated_at: now })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'failed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async attempts(deliveryId: string): Promise<WebhookAttemptRecord[]> {
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('delivery_id', '=', deliveryId)
      .orderBy('attempt')
      .execute();
    return rows.map(attemptFromRow);
  }
}
