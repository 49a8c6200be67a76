import type { Kysely } from 'kysely';
import { enableTenantRowSecurity, type GatehouseMigration } from './migration.js';

/** Tenants, their keys, apps, APIs, users and groups, oidc-provider state and the audit log. */
export const foundation: GatehouseMigration = {
  name: '0001-foundation',
  async up(db: Kysely<any>, dialect) {
    await db.schema
      .createTable('tenants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await enableTenantRowSecurity(db, dialect, 'tenants', 'id');

    await db.schema
      .createTable('signing_keys')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('kid', 'text', (c) => c.notNull())
      .addColumn('alg', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_jwk_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('signs_from', 'bigint', (c) => c.notNull())
      .addColumn('retired_at', 'bigint')
      .addColumn('publish_until', 'bigint')
      .addPrimaryKeyConstraint('signing_keys_pk', ['tenant_id', 'kid'])
      .execute();

    await db.schema
      .createTable('clients')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('secret_digest', 'text')
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('clients_pk', ['tenant_id', 'client_id'])
      .execute();

    await db.schema
      .createTable('resource_servers')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('identifier', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_servers_pk', ['tenant_id', 'identifier'])
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('given_name', 'text')
      .addColumn('family_name', 'text')
      .addColumn('display_name', 'text')
      .addColumn('phone', 'text')
      .addColumn('address', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text')
      .addColumn('attributes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('users_pk', ['tenant_id', 'id'])
      .addUniqueConstraint('users_username_unique', ['tenant_id', 'source', 'username'])
      .execute();
    await db.schema.createIndex('users_external_id').on('users').columns(['tenant_id', 'source', 'external_id']).execute();
    await db.schema.createIndex('users_email').on('users').columns(['tenant_id', 'email']).execute();

    await db.schema
      .createTable('groups')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('groups_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('groups_name').on('groups').columns(['tenant_id', 'source', 'name']).execute();
    await db.schema.createIndex('groups_external_id').on('groups').columns(['tenant_id', 'source', 'external_id']).execute();

    await db.schema
      .createTable('group_members')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('member_type', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('group_members_pk', ['tenant_id', 'group_id', 'member_type', 'member_id'])
      .execute();
    await db.schema.createIndex('group_members_member').on('group_members').columns(['tenant_id', 'member_type', 'member_id']).execute();

    await db.schema
      .createTable('oidc_payloads')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('grant_id', 'text')
      .addColumn('uid', 'text')
      .addColumn('user_code', 'text')
      .addColumn('account_id', 'text')
      .addColumn('expires_at', 'bigint')
      .addColumn('consumed_at', 'bigint')
      .addPrimaryKeyConstraint('oidc_payloads_pk', ['tenant_id', 'model', 'id'])
      .execute();
    await db.schema.createIndex('oidc_payloads_grant').on('oidc_payloads').columns(['tenant_id', 'grant_id']).execute();
    await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').columns(['tenant_id', 'model', 'uid']).execute();
    await db.schema.createIndex('oidc_payloads_account').on('oidc_payloads').columns(['tenant_id', 'model', 'account_id']).execute();
    await db.schema.createIndex('oidc_payloads_expiry').on('oidc_payloads').column('expires_at').execute();

    await db.schema
      .createTable('audit_events')
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('occurred_at', 'bigint', (c) => c.notNull())
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('client_ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('request_id', 'text')
      .addColumn('details', 'text')
      .addPrimaryKeyConstraint('audit_events_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('audit_events_action').on('audit_events').columns(['tenant_id', 'action', 'id']).execute();

    for (const table of ['signing_keys', 'clients', 'resource_servers', 'users', 'groups', 'group_members', 'oidc_payloads', 'audit_events']) {
      await enableTenantRowSecurity(db, dialect, table);
    }
  },
};
