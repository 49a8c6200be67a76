import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type GatehouseMigration } from './migration.js';

/** LDAP / Active Directory connections of a tenant (issue 4); directory sync reuses them. */
export const ldapConnections: GatehouseMigration = {
  name: '0003-ldap-connections',
  async up(db: Kysely<any>, dialect) {
    await db.schema
      .createTable('ldap_connections')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('bind_password_sealed', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('ldap_connections_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('ldap_connections_position').on('ldap_connections').columns(['tenant_id', 'position']).execute();
    await enableTenantRowSecurity(db, dialect, 'ldap_connections');
  },
};
