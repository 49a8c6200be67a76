import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../database.js';
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
    this.ownerDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: this.sqlite }) });
    this.systemDb = this.ownerDb;
  }

  protected tenantDb(): Kysely<Database> {
    return this.ownerDb;
  }

  protected async afterMigrate(): Promise<void> {}

  async close(): Promise<void> {
    await this.ownerDb.destroy();
  }
}
