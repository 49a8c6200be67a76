import { Migrator, sql, type ExpressionBuilder, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database, TenantsTable } from './database.js';
import { TenantStore } from './tenant-store.js';
import { TenantRegistry, type TenantRecord } from './repositories/tenant-registry.js';
import { TenantScopeGuard } from './tenant-scope-guard.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Dialect } from './migrations/migration.js';
import type { Clock } from '../clock.js';
import type { TenantStatus } from '../tenants/tenant-id.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { deleteTenantRows, exportTenantRows } from '../tenants/tenant-data.js';
import { parseJson, toOptionalNumber } from './rows.js';

export const MIGRATION_TABLE = 'gatehouse_migrations';

export interface MigrationReport {
  applied: string[];
  pending: string[];
  /** Migrations this run applied. */
  ran: string[];
}

/**
 * The storage interface. Two implementations (SqliteStore, PostgresStore) share this query-builder
 * code and differ in how they connect and how they enforce the tenant scope underneath; one
 * contract suite (test/integration/store-contract.test.ts) runs against both.
 */
export interface Store {
  readonly kind: Dialect;
  /** The list of tenants (the only cross-tenant API). */
  readonly tenants: TenantRegistry;
  /** Everything inside one tenant. */
  forTenant(tenantId: string): TenantStore;
  /** Creates a tenant and runs `init` (keys, first apps) in the same transaction. */
  createTenant(
    tenant: { id: string; displayName: string; status: TenantStatus; settings: TenantSettings },
    init: (store: TenantStore) => Promise<void>,
  ): Promise<TenantRecord>;
  /**
   * Removes, in every tenant, expired oidc-provider state, signing keys that have left the
   * JWKS (every token they signed has expired), and expired SAML state (requests, the replay
   * cache, partner sessions); returns the number of rows removed.
   */
  purgeExpired(options?: PurgeOptions): Promise<number>;
  /**
   * Tenants whose webhook dispatch has work: enabled subscriptions behind the tenant's change
   * feed, or pending deliveries due at `now` and not leased (the only cross-tenant read of it).
   */
  tenantsWithWebhookWork(now: number): Promise<string[]>;
  /** SAML connections, in every tenant, whose metadata URL is due to be fetched again. */
  samlConnectionsDueForMetadataRefresh(limit: number): Promise<Array<{ tenantId: string; connectionId: string }>>;
  /**
   * Every LDAP connection of an active tenant with its settings (JSON, validated by the caller)
   * and when its last sync run started: the directory sync scheduler decides from these which
   * runs are due.
   */
  ldapConnectionsForSync(): Promise<LdapSyncCandidate[]>;

  /** Every exportable row of a tenant (secrets and short-lived state left out), streamed. */
  exportTenant(tenantId: string): AsyncGenerator<{ table: string; row: Record<string, unknown> }>;
  /** Deletes a tenant and everything it owns, in one transaction; returns rows removed per table. */
  deleteTenant(tenantId: string): Promise<Record<string, number>>;
  migrate(): Promise<MigrationReport>;
  migrationStatus(): Promise<MigrationReport>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface LdapSyncCandidate {
  tenantId: string;
  connectionId: string;
  settings: unknown;
  lastStartedAt: number | undefined;
  lastFullAt: number | undefined;
}

export interface PurgeOptions {
  /** Directory changes that occurred before this time are removed (the feed's retention). */
  directoryChangesBefore?: number;
  /** Delivered or given-up webhook deliveries completed before this time are removed, with their attempts. */
  webhookDeliveriesBefore?: number;
}

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(MIGRATIONS.map((m) => [m.name, { up: (db: Kysely<any>) => m.up(db, this.dialect) }]));
  }
}

/** What each implementation provides: its connections, scoped the way its database allows. */
export abstract class KyselyStore implements Store {
  abstract readonly kind: Dialect;
  /** Owns the schema: migrations. */
  protected abstract readonly ownerDb: Kysely<Database>;
  /** Cross-tenant scope: the tenant list, purges. */
  protected abstract readonly systemDb: Kysely<Database>;
  /** Connections scoped to one tenant (no query checking; the TenantStore adds the guard). */
  protected abstract tenantDb(tenantId: string): Kysely<Database>;
  protected abstract afterMigrate(): Promise<void>;
  /** A faster read of one tenant row by id than the query builder's, where the store has one. */
  protected readTenantRow: ((tenantId: string) => TenantsTable | undefined) | undefined = undefined;
  abstract close(): Promise<void>;

  private registry: TenantRegistry | undefined;
  private readonly tenantStores = new LRUCache<string, TenantStore>({ max: 2000 });

  constructor(protected readonly clock: Clock) {}

  get tenants(): TenantRegistry {
    this.registry ??= new TenantRegistry(this.systemDb, this.clock);
    return this.registry;
  }

  forTenant(tenantId: string): TenantStore {
    let store = this.tenantStores.get(tenantId);
    if (!store) {
      store = new TenantStore(tenantId, this.tenantDb(tenantId).withPlugin(new TenantScopeGuard(tenantId)), this.clock, this.readTenantRow);
      this.tenantStores.set(tenantId, store);
    }
    return store;
  }

  async createTenant(
    tenant: { id: string; displayName: string; status: TenantStatus; settings: TenantSettings },
    init: (store: TenantStore) => Promise<void>,
  ): Promise<TenantRecord> {
    try {
      return await this.systemDb.transaction().execute(async (trx) => {
        const record = await new TenantRegistry(trx, this.clock).insert(tenant);
        await init(new TenantStore(tenant.id, trx.withPlugin(new TenantScopeGuard(tenant.id)), this.clock));
        return record;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new GatehouseError('tenant.exists', `a tenant with id "${tenant.id}" already exists`, { status: 409 });
      }
      throw error;
    }
  }

  async tenantsWithWebhookWork(now: number): Promise<string[]> {
    const behind = await this.systemDb
      .selectFrom('webhook_subscriptions as s')
      .innerJoin('directory_sequences as q', 'q.tenant_id', 's.tenant_id')
      .select('s.tenant_id')
      .where('s.enabled', '=', 1)
      .whereRef('s.enqueued_seq', '<', 'q.last_seq')
      .distinct()
      .execute();
    const due = await this.systemDb
      .selectFrom('webhook_deliveries')
      .select('tenant_id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .distinct()
      .execute();
    return [...new Set([...behind, ...due].map((r) => r.tenant_id))].sort();
  }

  async purgeExpired(options: PurgeOptions = {}): Promise<number> {
    const now = this.clock.now();
    const payloads = await this.systemDb
      .deleteFrom('oidc_payloads')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<', now)
      .executeTakeFirst();
    const keys = await this.systemDb
      .deleteFrom('signing_keys')
      .where('publish_until', 'is not', null)
      .where('publish_until', '<', now)
      .executeTakeFirst();
    // Tables whose rows carry their own expiry (counters, SAML requests, replay cache, sessions).
    let expiring = 0;
    for (const table of ['signin_throttle', 'saml_messages', 'saml_assertion_ids', 'saml_sessions'] as const) {
      const result = await this.systemDb.deleteFrom(table).where('expires_at', '<', now).executeTakeFirst();
      expiring += Number(result.numDeletedRows);
    }
    let directory = 0;
    if (options.directoryChangesBefore !== undefined) {
      const changes = await this.systemDb.deleteFrom('directory_changes').where('occurred_at', '<', options.directoryChangesBefore).executeTakeFirst();
      directory += Number(changes.numDeletedRows);
    }
    if (options.webhookDeliveriesBefore !== undefined) {
      const before = options.webhookDeliveriesBefore;
      const old = (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) => eb.and([eb('status', '<>', 'pending'), eb('completed_at', '<', before)]);
      const attempts = await this.systemDb
        .deleteFrom('webhook_attempts')
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('webhook_deliveries')
              .select('webhook_deliveries.id')
              .whereRef('webhook_deliveries.tenant_id', '=', 'webhook_attempts.tenant_id')
              .whereRef('webhook_deliveries.id', '=', 'webhook_attempts.delivery_id')
              .where(old),
          ),
        )
        .executeTakeFirst();
      const deliveries = await this.systemDb.deleteFrom('webhook_deliveries').where(old).executeTakeFirst();
      directory += Number(attempts.numDeletedRows) + Number(deliveries.numDeletedRows);
    }
    return Number(payloads.numDeletedRows) + Number(keys.numDeletedRows) + expiring + directory;
  }

  async samlConnectionsDueForMetadataRefresh(limit: number): Promise<Array<{ tenantId: string; connectionId: string }>> {
    const rows = await this.systemDb
      .selectFrom('saml_connections')
      .select(['tenant_id', 'id'])
      .where('metadata_refresh_at', 'is not', null)
      .where('metadata_refresh_at', '<=', this.clock.now())
      .orderBy('metadata_refresh_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ tenantId: r.tenant_id, connectionId: r.id }));
  }

  exportTenant(tenantId: string): AsyncGenerator<{ table: string; row: Record<string, unknown> }> {
    return exportTenantRows(this.tenantDb(tenantId).withPlugin(new TenantScopeGuard(tenantId)), tenantId);
  }

  deleteTenant(tenantId: string): Promise<Record<string, number>> {
    this.tenantStores.delete(tenantId);
    return deleteTenantRows(this.systemDb, tenantId);
  }

  async ldapConnectionsForSync(): Promise<LdapSyncCandidate[]> {
    const rows = await this.systemDb
      .selectFrom('ldap_connections as c')
      .innerJoin('tenants as t', 't.id', 'c.tenant_id')
      .leftJoin('sync_states as s', (join) => join.onRef('s.tenant_id', '=', 'c.tenant_id').onRef('s.connection_id', '=', 'c.id'))
      .select(['c.tenant_id', 'c.id', 'c.settings', 's.last_started_at', 's.last_full_at'])
      .where('t.status', '=', 'active')
      .orderBy('c.tenant_id')
      .orderBy('c.id')
      .execute();
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      connectionId: r.id,
      settings: parseJson<unknown>(r.settings, {}),
      lastStartedAt: toOptionalNumber(r.last_started_at),
      lastFullAt: toOptionalNumber(r.last_full_at),
    }));
  }

  private migrator(): Migrator {
    return new Migrator({
      db: this.ownerDb,
      provider: new StaticMigrationProvider(this.kind),
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: `${MIGRATION_TABLE}_lock`,
    });
  }

  async migrate(): Promise<MigrationReport> {
    const { error, results } = await this.migrator().migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      throw new GatehouseError('store.migration_failed', `migration ${failed ?? '(unknown)'} failed: ${(error as Error).message}`, {
        status: 500,
        expose: false,
        cause: error,
      });
    }
    await this.afterMigrate();
    const status = await this.migrationStatus();
    return { ...status, ran: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
  }

  async migrationStatus(): Promise<MigrationReport> {
    const all = await this.migrator().getMigrations();
    return {
      applied: all.filter((m) => m.executedAt).map((m) => m.name),
      pending: all.filter((m) => !m.executedAt).map((m) => m.name),
      ran: [],
    };
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.ownerDb);
  }
}

/** SQLite says "UNIQUE constraint failed", PostgreSQL uses SQLSTATE 23505. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
