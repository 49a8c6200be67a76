import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database, TenantsTable } from '../database.js';
import { KyselyStore } from '../store.js';
import type { Clock } from '../../clock.js';

/**
 * The embedded default: one file, no configuration. WAL mode lets several processes on one
 * machine share the file; busy_timeout makes a writer wait for another instead of failing.
 * There is no row-level security in SQLite: the TenantScopeGuard on every tenant handle is what
 * keeps queries inside their tenant.
 */
export class SqliteStore extends KyselyStore {
  readonly kind = 'sqlite' as const;
  protected readonly ownerDb: Kysely<Database>;
  protected readonly systemDb: Kysely<Database>;
  private readonly sqlite: BetterSqlite3.Database;

  constructor(file: string, clock: Clock) {
    super(clock);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.sqlite = new BetterSqlite3(file);
    this.sqlite.pragma('journal_mode = WAL');
    this.sqlite.pragma('busy_timeout = 5000');
    this.sqlite.pragma('foreign_keys = ON');
    this.sqlite.pragma('synchronous = NORMAL');
    this.ownerDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(this.sqlite) }) });
    this.systemDb = this.ownerDb;
    // The tenant row is read on every request (tenant-routing.ts); through the query builder that
    // read costs several times SQLite's own work (connection lock, promise hops, result plugins).
    // It is a read by primary key of one table, so it is scoped by construction. Run outside the
    // builder's connection lock, it may see a change another request's transaction has not
    // committed yet: at worst a tenant runtime is rebuilt once more than needed.
    // Prepared on first use: the table exists only once migrations have run.
    let readTenant: BetterSqlite3.Statement | undefined;
    this.readTenantRow = (tenantId) => {
      readTenant ??= this.sqlite.prepare('select * from "tenants" where "id" = ?');
      return readTenant.get(tenantId) as TenantsTable | undefined;
    };
  }

  protected tenantDb(): Kysely<Database> {
    return this.ownerDb;
  }

  protected async afterMigrate(): Promise<void> {}

  async close(): Promise<void> {
    await this.ownerDb.destroy();
  }
}

/** Distinct SQL texts kept prepared; the query builder produces a few dozen shapes. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query again; compiling the SQL text is a noticeable part of a short
 * query's cost on the token endpoint's hot path (the tenant row read, audit inserts). Statements
 * are reused by SQL text (parameters are bound per run). A statement still being iterated (a
 * streamed select) is busy and cannot run twice at once: such a query gets a fresh one.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new LRUCache<string, BetterSqlite3.Statement>({ max: STATEMENT_CACHE_SIZE });
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sql);
      if (!cached) statements.set(sql, statement);
      return statement;
    },
  };
}
