import pg from 'pg';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from '../database.js';
import { TENANT_TABLES } from '../database.js';
import { KyselyStore, MIGRATION_TABLE } from '../store.js';
import type { Clock } from '../../clock.js';
import { GatehouseError } from '../../errors/gatehouse-error.js';

/** int8 (epoch milliseconds, counts) as numbers, as SQLite returns them; 2^53 is far away. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : (pg.types.getTypeParser as any)(oid, format),
};

const SCOPE = Symbol('gatehouse.scope');
const ROLE = Symbol('gatehouse.role');
type ScopedClient = pg.PoolClient & { [SCOPE]?: string; [ROLE]?: boolean };

/**
 * A view of the shared pool whose connections carry one scope: `app.tenant_id` for a tenant's
 * handle, `app.maintenance` for the system handle. The settings are what the row-level security
 * policies check. A connection remembers its scope, so the setting is sent only when a connection
 * moves between tenants, not on every query. Every connection also switches to the application
 * role first, so the policies apply even when the connecting user owns the tables.
 */
class ScopedPool implements PostgresPool {
  private readonly key: string;
  constructor(
    private readonly pool: pg.Pool,
    private readonly appRole: string,
    private readonly tenantId: string | null,
  ) {
    this.key = tenantId === null ? 'system' : `tenant:${tenantId}`;
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = (await this.pool.connect()) as ScopedClient;
    try {
      if (!client[ROLE]) {
        await client.query(`SET ROLE "${this.appRole}"`);
        client[ROLE] = true;
      }
      if (client[SCOPE] !== this.key) {
        client[SCOPE] = undefined;
        await client.query(`SELECT set_config('app.tenant_id', $1, false), set_config('app.maintenance', $2, false)`, [
          this.tenantId ?? '',
          this.tenantId === null ? 'on' : 'off',
        ]);
        client[SCOPE] = this.key;
      }
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    return client as unknown as PostgresPoolClient;
  }

  /** The shared pool is closed by the store, not by each scoped view. */
  async end(): Promise<void> {}
}

export interface PostgresStoreOptions {
  url: string;
  appRole: string;
  poolSize: number;
}

export class PostgresStore extends KyselyStore {
  readonly kind = 'postgres' as const;
  protected readonly ownerDb: Kysely<Database>;
  protected readonly systemDb: Kysely<Database>;
  private readonly ownerPool: pg.Pool;
  private readonly appPool: pg.Pool;

  constructor(
    private readonly options: PostgresStoreOptions,
    clock: Clock,
  ) {
    super(clock);
    this.ownerPool = new pg.Pool({ connectionString: options.url, max: 2, types });
    this.appPool = new pg.Pool({ connectionString: options.url, max: options.poolSize, types });
    // An idle client that errors (server restart) must not crash the process; the pool replaces it.
    this.ownerPool.on('error', () => {});
    this.appPool.on('error', () => {});
    this.ownerDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: this.ownerPool }) });
    this.systemDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new ScopedPool(this.appPool, options.appRole, null) }) });
  }

  protected tenantDb(tenantId: string): Kysely<Database> {
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new ScopedPool(this.appPool, this.options.appRole, tenantId) }) });
  }

  /**
   * Creates the application role when missing and grants it what the application needs: rows of
   * tenant tables (under their policies), and on the audit log only insert, select and delete
   * (deleting a tenant deletes its log): no update, the log is append-only.
   */
  protected async afterMigrate(): Promise<void> {
    const role = this.options.appRole;
    const r = sql.id(role);
    try {
      await this.ownerDb.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext('gatehouse.app-role'))`.execute(trx);
        const exists = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ${role}`.execute(trx);
        if (exists.rows[0]?.n === 0) await sql`CREATE ROLE ${r} NOLOGIN`.execute(trx);
        const member = await sql<{ ok: boolean }>`SELECT pg_has_role(current_user, ${role}, 'MEMBER') AS ok`.execute(trx);
        if (!member.rows[0]?.ok) await sql`GRANT ${r} TO CURRENT_USER`.execute(trx);
        await sql`GRANT USAGE ON SCHEMA public TO ${r}`.execute(trx);
        await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO ${r}`.execute(trx);
        for (const table of TENANT_TABLES) {
          const privileges = table === 'audit_events' ? sql`SELECT, INSERT, DELETE` : sql`SELECT, INSERT, UPDATE, DELETE`;
          await sql`GRANT ${privileges} ON ${sql.table(table)} TO ${r}`.execute(trx);
        }
        await sql`REVOKE ALL ON ${sql.table(MIGRATION_TABLE)} FROM ${r}`.execute(trx);
      });
    } catch (cause) {
      throw new GatehouseError(
        'store.app_role_failed',
        `could not prepare the PostgreSQL role "${role}" that row-level security applies to ` +
          `(the database user needs CREATEROLE, or an administrator creates the role and grants it to this user): ${(cause as Error).message}`,
        { status: 500, expose: false, cause },
      );
    }
  }

  async close(): Promise<void> {
    await this.ownerPool.end();
    await this.appPool.end();
  }
}
