import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import { toNumber, toOptionalNumber } from '../rows.js';

export interface ThrottleRecord {
  failures: number;
  firstFailedAt: number;
  lastFailedAt: number;
  lockedUntil: number | undefined;
}

/** Failure counters of one tenant. Increments are single upserts, so processes never lose one. */
export class ThrottleRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
  ) {}

  async get(key: string): Promise<ThrottleRecord | undefined> {
    const row = await this.db
      .selectFrom('signin_throttle')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && { failures: toNumber(row.failures), firstFailedAt: toNumber(row.first_failed_at), lastFailedAt: toNumber(row.last_failed_at), lockedUntil: toOptionalNumber(row.locked_until) };
  }

  /** Counts one failure; a window that has passed starts again at one. Returns the new count. */
  async recordFailure(key: string, now: number, windowMs: number): Promise<ThrottleRecord> {
    const windowStart = now - windowMs;
    await this.db
      .insertInto('signin_throttle')
      .values({ tenant_id: this.tenantId, key, failures: 1, first_failed_at: now, last_failed_at: now, locked_until: null, expires_at: now + windowMs })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'key']).doUpdateSet((eb) => ({
          failures: eb.case().when('signin_throttle.last_failed_at', '<', windowStart).then(1).else(eb('signin_throttle.failures', '+', 1)).end(),
          first_failed_at: eb.case().when('signin_throttle.last_failed_at', '<', windowStart).then(now).else(eb.ref('signin_throttle.first_failed_at')).end(),
          last_failed_at: now,
          // A running lock keeps the row (and the lock) past the failure window.
          expires_at: eb
            .case()
            .when(eb.fn.coalesce('signin_throttle.locked_until', eb.val(0)), '>', now + windowMs)
            .then(eb.ref('signin_throttle.locked_until'))
            .else(now + windowMs)
            .end() as any,
        })),
      )
      .execute();
    return (await this.get(key))!;
  }

  async lock(key: string, until: number): Promise<void> {
    await this.db
      .updateTable('signin_throttle')
      .set((eb) => ({ locked_until: until, expires_at: eb.case().when('expires_at', '>', until).then(eb.ref('expires_at')).else(until).end() }))
      .where('tenant_id', '=', this.tenantId)
      .where('key', '=', key)
      .execute();
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('signin_throttle').where('tenant_id', '=', this.tenantId).where('key', '=', key).execute();
  }
}
