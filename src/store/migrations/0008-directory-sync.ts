import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type GatehouseMigration } from './migration.js';

/**
 * Directory synchronization (issue 8): per LDAP connection its sync state (the run lease, the
 * incremental high-water mark, the settings of the last successful run), its runs (history,
 * progress, reports), its ledger (which directory entry became which user or group, where it
 * was last seen, since when it is missing) and the objects to read again at the next run.
 * Everything of a connection goes when the connection is removed; the users and groups it
 * brought stay in the tenant directory.
 */
export const directorySync: GatehouseMigration = {
  name: '0008-directory-sync',
  async up(db: Kysely<any>, dialect) {
    const connection = (table: string) => ({ name: `${table}_connection_fk`, columns: ['tenant_id', 'connection_id'] as const });

    await db.schema
      .createTable('sync_states')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      // The lease: one run at a time per connection, across processes (expires if not renewed).
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('lease_run_id', 'text')
      // Runs are numbered per connection; the ledger's seen marks carry the number.
      .addColumn('run_counter', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('last_started_at', 'bigint')
      .addColumn('last_success_at', 'bigint')
      .addColumn('last_full_at', 'bigint')
      // The last run that listed the whole scope (a full run or a presence scan): what is gone is known as of then.
      .addColumn('last_listing_at', 'bigint')
      // JSON: the incremental high-water mark and where it is valid (change-marks.ts).
      .addColumn('mark', 'text')
      // What the directory looked like to the last run that was allowed to remove access.
      .addColumn('settings_fingerprint', 'text')
      // Memberships changed since the roles were last derived from them.
      .addColumn('roles_dirty', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('sync_states_pk', ['tenant_id', 'connection_id'])
      .addForeignKeyConstraint(connection('sync_states').name, [...connection('sync_states').columns], 'ldap_connections', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
      .execute();

    await db.schema
      .createTable('sync_runs')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('number', 'bigint', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('triggered_by', 'text', (c) => c.notNull())
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('message', 'text')
      .addColumn('confirm_deletions', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('progress', 'text')
      .addColumn('report', 'text')
      .addPrimaryKeyConstraint('sync_runs_pk', ['tenant_id', 'id'])
      .addForeignKeyConstraint(connection('sync_runs').name, [...connection('sync_runs').columns], 'ldap_connections', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
      .execute();
    await db.schema.createIndex('sync_runs_connection').on('sync_runs').columns(['tenant_id', 'connection_id', 'number']).execute();

    await db.schema
      .createTable('sync_objects')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addColumn('dn', 'text', (c) => c.notNull())
      // The normalised DN (RFC 4514 / caseIgnoreMatch): group members are resolved by it.
      .addColumn('dn_key', 'text', (c) => c.notNull())
      .addColumn('seen_run', 'bigint', (c) => c.notNull())
      .addColumn('missing_since', 'bigint')
      .addPrimaryKeyConstraint('sync_objects_pk', ['tenant_id', 'connection_id', 'kind', 'external_id'])
      .addForeignKeyConstraint(connection('sync_objects').name, [...connection('sync_objects').columns], 'ldap_connections', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
      .execute();
    // Members are resolved by DN. Seen marks and missing times are read by scanning a connection's
    // objects in key order (only runs that listed the whole scope do): no index to maintain on the
    // hot path of every page.
    await db.schema.createIndex('sync_objects_dn').on('sync_objects').columns(['tenant_id', 'connection_id', 'dn_key']).execute();

    await db.schema
      .createTable('sync_retries')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      // The immutable id when the entry had one, else its DN.
      .addColumn('ref', 'text', (c) => c.notNull())
      .addColumn('dn', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('first_failed_at', 'bigint', (c) => c.notNull())
      .addColumn('last_failed_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sync_retries_pk', ['tenant_id', 'connection_id', 'kind', 'ref'])
      .addForeignKeyConstraint(connection('sync_retries').name, [...connection('sync_retries').columns], 'ldap_connections', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
      .execute();

    for (const table of ['sync_states', 'sync_runs', 'sync_objects', 'sync_retries']) {
      await enableTenantRowSecurity(db, dialect, table);
    }
  },
};
