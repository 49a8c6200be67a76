import type { Kysely } from 'kysely';
import type { Database, MfaFactorsTable } from '../database.js';
import { toNumber, toOptionalNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

export interface MfaFactorRecord {
  id: string;
  userId: string;
  type: 'totp' | 'webauthn';
  label: string;
  secretSealed: string;
  confirmed: boolean;
  lastUsedStep: number | undefined;
  createdAt: number;
  lastUsedAt: number | undefined;
}

function fromRow(row: MfaFactorsTable): MfaFactorRecord {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type as MfaFactorRecord['type'],
    label: row.label,
    secretSealed: row.secret_sealed,
    confirmed: toNumber(row.confirmed) === 1,
    lastUsedStep: toOptionalNumber(row.last_used_step),
    createdAt: toNumber(row.created_at),
    lastUsedAt: toOptionalNumber(row.last_used_at),
  };
}

/** Second factors and recovery codes of a tenant's users. */
export class MfaRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async factors(userId: string): Promise<MfaFactorRecord[]> {
    const rows = await this.db
      .selectFrom('mfa_factors')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
    return rows.map(fromRow);
  }

  async insertFactor(f: Omit<MfaFactorRecord, 'createdAt' | 'lastUsedAt' | 'lastUsedStep'>): Promise<void> {
    await this.db
      .insertInto('mfa_factors')
      .values({
        tenant_id: this.tenantId,
        id: f.id,
        user_id: f.userId,
        type: f.type,
        label: f.label,
        secret_sealed: f.secretSealed,
        confirmed: f.confirmed ? 1 : 0,
        last_used_step: null,
        created_at: this.clock.now(),
        last_used_at: null,
      })
      .execute();
  }

  async confirmFactor(id: string, step: number): Promise<void> {
    await this.db
      .updateTable('mfa_factors')
      .set({ confirmed: 1, last_used_step: step, last_used_at: this.clock.now() })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
  }

  /**
   * Records `step` as the factor's last accepted TOTP step, only if it is later than the one
   * stored: one conditional update, so of two processes accepting the same code at the same
   * moment exactly one wins and the other sees a replay.
   */
  async advanceStep(id: string, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_factors')
      .set({ last_used_step: step, last_used_at: this.clock.now() })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async deleteFactor(userId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('mfa_factors')
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteUnconfirmed(userId: string): Promise<void> {
    await this.db.deleteFrom('mfa_factors').where('tenant_id', '=', this.tenantId).where('user_id', '=', userId).where('confirmed', '=', 0).execute();
  }

  /** Removes every factor and recovery code of a user (help-desk reset). */
  async deleteAll(userId: string): Promise<{ factors: number; codes: number }> {
    const factors = await this.db.deleteFrom('mfa_factors').where('tenant_id', '=', this.tenantId).where('user_id', '=', userId).executeTakeFirst();
    const codes = await this.db.deleteFrom('mfa_recovery_codes').where('tenant_id', '=', this.tenantId).where('user_id', '=', userId).executeTakeFirst();
    return { factors: Number(factors.numDeletedRows), codes: Number(codes.numDeletedRows) };
  }

  async replaceRecoveryCodes(userId: string, hashes: string[]): Promise<void> {
    await this.db.deleteFrom('mfa_recovery_codes').where('tenant_id', '=', this.tenantId).where('user_id', '=', userId).execute();
    const now = this.clock.now();
    if (hashes.length) {
      await this.db
        .insertInto('mfa_recovery_codes')
        .values(hashes.map((code_hash) => ({ tenant_id: this.tenantId, user_id: userId, code_hash, created_at: now, used_at: null })))
        .execute();
    }
  }

  /** Spends a recovery code: true only the first time (a conditional update, safe across processes). */
  async useRecoveryCode(userId: string, hash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: this.clock.now() })
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async remainingRecoveryCodes(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('mfa_recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return toNumber(row.n);
  }
}
