import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import { parseJson, toJson, toOptionalNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

/**
 * `authn`: an AuthnRequest we sent (its id is the request ID the response must answer).
 * `logout`: a LogoutRequest we sent. `completion`: a validated sign-in waiting for the browser's
 * same-site hop to the continue route.
 */
export type SamlMessageKind = 'authn' | 'logout' | 'completion';

export interface SamlMessageRecord<P = Record<string, unknown>> {
  id: string;
  connectionId: string;
  kind: SamlMessageKind;
  payload: P;
  expiresAt: number;
  consumedAt: number | undefined;
}

/** Short-lived, single-use SAML protocol state of one tenant, shared by every server process. */
export class SamlMessageRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async insert(record: { id: string; connectionId: string; kind: SamlMessageKind; payload: unknown; expiresAt: number }): Promise<void> {
    await this.db
      .insertInto('saml_messages')
      .values({
        tenant_id: this.tenantId,
        id: record.id,
        connection_id: record.connectionId,
        kind: record.kind,
        payload: toJson(record.payload),
        expires_at: record.expiresAt,
        consumed_at: null,
        created_at: this.clock.now(),
      })
      .execute();
  }

  /** The message, whether used or not, when it has not expired. */
  async findLive<P = Record<string, unknown>>(id: string, kind: SamlMessageKind): Promise<SamlMessageRecord<P> | undefined> {
    const row = await this.db
      .selectFrom('saml_messages')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('kind', '=', kind)
      .where('expires_at', '>', this.clock.now())
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      connectionId: row.connection_id,
      kind: row.kind as SamlMessageKind,
      payload: parseJson<P>(row.payload, {} as P),
      expiresAt: Number(row.expires_at),
      consumedAt: toOptionalNumber(row.consumed_at),
    };
  }

  /**
   * Marks the message used, atomically: of several processes presenting the same message at
   * once, exactly one gets `true`.
   */
  async consume(id: string, kind: SamlMessageKind): Promise<boolean> {
    const result = await this.db
      .updateTable('saml_messages')
      .set({ consumed_at: this.clock.now() })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('kind', '=', kind)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', this.clock.now())
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
