import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type GatehouseMigration } from './migration.js';

/** Failed sign-in counters per account and per client IP, shared by every server process. */
export const signInThrottle: GatehouseMigration = {
  name: '0002-sign-in-throttle',
  async up(db: Kysely<any>, dialect) {
    await db.schema
      .createTable('signin_throttle')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('first_failed_at', 'bigint', (c) => c.notNull())
      .addColumn('last_failed_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'bigint')
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('signin_throttle_pk', ['tenant_id', 'key'])
      .execute();
    await db.schema.createIndex('signin_throttle_expiry').on('signin_throttle').column('expires_at').execute();
    await enableTenantRowSecurity(db, dialect, 'signin_throttle');
  },
};
