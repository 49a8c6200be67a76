import { sql, type Kysely } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/**
 * A versioned schema change. The name orders migrations (a four-digit prefix) and is recorded
 * once applied; a migration is never edited after it has been released, a new one is added.
 */
export interface GatehouseMigration {
  name: string;
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/**
 * Row-level security for a tenant-owned table (PostgreSQL only): rows are visible and writable
 * only when the connection's `app.tenant_id` setting names their tenant, or in the maintenance
 * scope that cross-tenant jobs (purge, tenant listing) use. FORCE applies it to the table owner
 * too. The application role is granted its privileges at start (see postgres-store.ts).
 */
export async function enableTenantRowSecurity(db: Kysely<any>, dialect: Dialect, table: string, column = 'tenant_id'): Promise<void> {
  if (dialect !== 'postgres') return;
  const t = sql.table(table);
  const c = sql.ref(column);
  await sql`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`CREATE POLICY tenant_scope ON ${t}
    USING (${c} = current_setting('app.tenant_id', true) OR current_setting('app.maintenance', true) = 'on')
    WITH CHECK (${c} = current_setting('app.tenant_id', true) OR current_setting('app.maintenance', true) = 'on')`.execute(db);
}
