import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type GatehouseMigration } from './migration.js';

/**
 * The directory change feed (a per-tenant, gap-free sequence of changes to users, groups and
 * memberships), versions of users and groups (SCIM ETags, RFC 7644 section 3.14), and webhook
 * subscriptions with their deliveries and delivery attempts.
 */
export const directoryChangesAndScim: GatehouseMigration = {
  name: '0007-directory-changes-and-scim',
  async up(db: Kysely<any>, dialect) {
    // Existing rows start at version 1, as new rows do.
    await db.schema.alterTable('users').addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1)).execute();
    await db.schema.alterTable('groups').addColumn('version', 'bigint', (c) => c.notNull().defaultTo(1)).execute();

    // One row per tenant: the last sequence number handed out. Every directory transaction locks
    // this row first (directory-writer.ts), which makes numbers gap-free and commit-ordered.
    await db.schema
      .createTable('directory_sequences')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('last_seq', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('directory_sequences_pk', ['tenant_id'])
      .execute();

    await db.schema
      .createTable('directory_changes')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('occurred_at', 'bigint', (c) => c.notNull())
      .addColumn('object_type', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('via', 'text', (c) => c.notNull())
      .addColumn('changed', 'text')
      .addColumn('data', 'text')
      .addPrimaryKeyConstraint('directory_changes_pk', ['tenant_id', 'seq'])
      .execute();
    await db.schema.createIndex('directory_changes_age').on('directory_changes').column('occurred_at').execute();

    await db.schema
      .createTable('webhook_subscriptions')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('declared', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('enqueued_seq', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_subscriptions_pk', ['tenant_id', 'id'])
      .execute();

    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('subscription_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('ordering_key', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addPrimaryKeyConstraint('webhook_deliveries_pk', ['tenant_id', 'id'])
      .addUniqueConstraint('webhook_deliveries_change', ['tenant_id', 'subscription_id', 'seq'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema
      .createIndex('webhook_deliveries_order')
      .on('webhook_deliveries')
      .columns(['tenant_id', 'subscription_id', 'status', 'ordering_key', 'seq'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_age').on('webhook_deliveries').columns(['status', 'completed_at']).execute();

    await db.schema
      .createTable('webhook_attempts')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('error', 'text')
      .addPrimaryKeyConstraint('webhook_attempts_pk', ['tenant_id', 'delivery_id', 'attempt'])
      .execute();

    for (const table of ['directory_sequences', 'directory_changes', 'webhook_subscriptions', 'webhook_deliveries', 'webhook_attempts']) {
      await enableTenantRowSecurity(db, dialect, table);
    }
  },
};
