import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type GatehouseMigration } from './migration.js';

/**
 * SAML partner connections (issue 5): the connections, the protocol state that must hold across
 * server processes (requests we sent, the replay cache of assertion ids) and the partner sessions
 * single logout needs. Times are epoch milliseconds in bigint columns, like every other table.
 */
export const samlConnections: GatehouseMigration = {
  name: '0004-saml-connections',
  async up(db: Kysely<any>, dialect) {
    await db.schema
      .createTable('saml_connections')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('idp', 'text', (c) => c.notNull())
      .addColumn('sp_certificates', 'text', (c) => c.notNull())
      .addColumn('sp_keys_sealed', 'text', (c) => c.notNull())
      .addColumn('metadata_refresh_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('saml_connections_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('saml_connections_refresh').on('saml_connections').column('metadata_refresh_at').execute();

    await db.schema
      .createTable('saml_messages')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('consumed_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('saml_messages_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('saml_messages_expiry').on('saml_messages').column('expires_at').execute();

    // The primary key is the replay check: a second insert of the same id fails in every process.
    await db.schema
      .createTable('saml_assertion_ids')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('assertion_id', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('saml_assertion_ids_pk', ['tenant_id', 'connection_id', 'assertion_id'])
      .execute();
    await db.schema.createIndex('saml_assertion_ids_expiry').on('saml_assertion_ids').column('expires_at').execute();

    await db.schema
      .createTable('saml_sessions')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('name_id', 'text', (c) => c.notNull())
      .addColumn('name_id_format', 'text')
      .addColumn('name_qualifier', 'text')
      .addColumn('sp_name_qualifier', 'text')
      .addColumn('session_index', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('saml_sessions_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('saml_sessions_name_id').on('saml_sessions').columns(['tenant_id', 'connection_id', 'name_id']).execute();
    await db.schema.createIndex('saml_sessions_account').on('saml_sessions').columns(['tenant_id', 'account_id']).execute();
    await db.schema.createIndex('saml_sessions_expiry').on('saml_sessions').column('expires_at').execute();

    for (const table of ['saml_connections', 'saml_messages', 'saml_assertion_ids', 'saml_sessions']) {
      await enableTenantRowSecurity(db, dialect, table);
    }
  },
};
