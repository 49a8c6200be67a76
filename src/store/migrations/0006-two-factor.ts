import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type GatehouseMigration } from './migration.js';

/** Second factors (TOTP authenticators, later passkeys) and recovery codes. */
export const twoFactor: GatehouseMigration = {
  name: '0006-two-factor',
  async up(db: Kysely<any>, dialect) {
    await db.schema
      .createTable('mfa_factors')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('confirmed', 'integer', (c) => c.notNull())
      .addColumn('last_used_step', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addPrimaryKeyConstraint('mfa_factors_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('mfa_factors_user').on('mfa_factors').columns(['tenant_id', 'user_id']).execute();
    await db.schema
      .createTable('mfa_recovery_codes')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addPrimaryKeyConstraint('mfa_recovery_codes_pk', ['tenant_id', 'user_id', 'code_hash'])
      .execute();
    for (const table of ['mfa_factors', 'mfa_recovery_codes']) await enableTenantRowSecurity(db, dialect, table);
  },
};
