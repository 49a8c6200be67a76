import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import { toNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

export interface StoredPayload {
  payload: Record<string, unknown>;
  expiresAt: number | undefined;
  consumedAt: number | undefined;
}

/**
 * oidc-provider's state (sessions, interactions, grants, codes, tokens, ...) for one tenant.
 * Payloads are open-ended JSON; the columns beside them are what the provider looks rows up by
 * (grant id, interaction uid, device user code) and what the account page lists (account id).
 */
export class OidcPayloadRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async upsert(model: string, id: string, payload: Record<string, unknown>, expiresInSeconds: number | undefined): Promise<void> {
    const expiresAt = expiresInSeconds ? this.clock.now() + expiresInSeconds * 1000 : null;
    const row = {
      tenant_id: this.tenantId,
      model,
      id,
      payload: JSON.stringify(payload),
      grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
      account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
      expires_at: expiresAt,
      consumed_at: null,
    };
    await this.db
      .insertInto('oidc_payloads')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'model', 'id']).doUpdateSet({
          payload: row.payload,
          grant_id: row.grant_id,
          uid: row.uid,
          user_code: row.user_code,
          account_id: row.account_id,
          expires_at: row.expires_at,
        }),
      )
      .execute();
  }

  private live() {
    return this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'expires_at', 'consumed_at'])
      .where('tenant_id', '=', this.tenantId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', this.clock.now())]));
  }

  private static toStored(row: { payload: string; expires_at: number | null; consumed_at: number | null } | undefined): StoredPayload | undefined {
    if (!row) return undefined;
    return {
      payload: JSON.parse(row.payload) as Record<string, unknown>,
      expiresAt: row.expires_at === null ? undefined : toNumber(row.expires_at),
      consumedAt: row.consumed_at === null ? undefined : toNumber(row.consumed_at),
    };
  }

  async find(model: string, id: string): Promise<StoredPayload | undefined> {
    return OidcPayloadRepository.toStored(await this.live().where('model', '=', model).where('id', '=', id).executeTakeFirst());
  }

  async findByUid(model: string, uid: string): Promise<StoredPayload | undefined> {
    return OidcPayloadRepository.toStored(await this.live().where('model', '=', model).where('uid', '=', uid).executeTakeFirst());
  }

  async findByUserCode(model: string, userCode: string): Promise<StoredPayload | undefined> {
    return OidcPayloadRepository.toStored(await this.live().where('model', '=', model).where('user_code', '=', userCode).executeTakeFirst());
  }

  /** Live payloads of one model for one account (the account page's sessions and grants). */
  async listByAccount(model: string, accountId: string): Promise<Array<{ id: string } & StoredPayload>> {
    const rows = await this.db
      .selectFrom('oidc_payloads')
      .select(['id', 'payload', 'expires_at', 'consumed_at'])
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', model)
      .where('account_id', '=', accountId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', this.clock.now())]))
      .execute();
    return rows.map((r) => ({ id: r.id, ...OidcPayloadRepository.toStored(r)! }));
  }

  async consume(model: string, id: string): Promise<void> {
    await this.db
      .updateTable('oidc_payloads')
      .set({ consumed_at: this.clock.now() })
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', model)
      .where('id', '=', id)
      .execute();
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.db
      .deleteFrom('oidc_payloads')
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', model)
      .where('id', '=', id)
      .execute();
  }

  /** Everything oidc-provider holds for an account (sessions, grants, their tokens): the account is gone. */
  async deleteByAccount(accountId: string): Promise<void> {
    const grants = await this.db
      .selectFrom('oidc_payloads')
      .select('id')
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', 'Grant')
      .where('account_id', '=', accountId)
      .execute();
    for (const { id } of grants) await this.revokeByGrantId(id);
    await this.db.deleteFrom('oidc_payloads').where('tenant_id', '=', this.tenantId).where('account_id', '=', accountId).execute();
  }

  /** Ends a grant: every token, code and session entry that belongs to it, of every model. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.deleteFrom('oidc_payloads').where('tenant_id', '=', this.tenantId).where('grant_id', '=', grantId).execute();
  }
}
