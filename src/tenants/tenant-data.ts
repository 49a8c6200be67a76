import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { TENANT_TABLES } from '../store/database.js';

type TenantTable = (typeof TENANT_TABLES)[number];

/**
 * What a tenant's export leaves out. Secrets (even sealed ones: they are useless outside this
 * installation and must not travel) and short-lived protocol state (sessions, tokens, codes,
 * pending SAML messages, replay cache, failure counters) that means nothing elsewhere.
 */
export const EXPORT_EXCLUDED_TABLES: ReadonlySet<TenantTable> = new Set<TenantTable>([
  'oidc_payloads',
  'signin_throttle',
  'saml_messages',
  'saml_assertion_ids',
  'mfa_recovery_codes',
]);

export const EXPORT_REDACTED_COLUMNS: Readonly<Partial<Record<TenantTable, string[]>>> = {
  signing_keys: ['private_jwk_sealed'],
  clients: ['secret_digest'],
  users: ['password_hash'],
  mfa_factors: ['secret_sealed'],
  saml_connections: ['sp_keys_sealed'],
  ldap_connections: ['bind_password_sealed'],
  webhook_subscriptions: ['secret_sealed'],
};

/**
 * Each table's key after tenant_id, for a stable page order (most tables: `id`). A table added
 * without `id` must be listed here: the export test reads every tenant table.
 */
const ORDER_KEYS: Readonly<Partial<Record<TenantTable, string[]>>> = {
  signing_keys: ['kid'],
  clients: ['client_id'],
  resource_servers: ['identifier'],
  group_members: ['group_id', 'member_type', 'member_id'],
  directory_sequences: [],
  directory_changes: ['seq'],
  webhook_attempts: ['delivery_id', 'attempt'],
  sync_states: ['connection_id'],
  sync_objects: ['connection_id', 'kind', 'external_id'],
  sync_retries: ['connection_id', 'kind', 'ref'],
};

/** Rows read per query while exporting: memory stays flat however large the tenant. */
const PAGE = 1000;

/**
 * Deletes every row of a tenant, table by table, then the tenant: used once a tenant has been
 * offboarded (its requests already refused). `db` is the store's system handle; one transaction.
 */
export async function deleteTenantRows(db: Kysely<Database>, tenantId: string): Promise<Record<string, number>> {
  return db.transaction().execute(async (trx) => {
    const counts: Record<string, number> = {};
    // Children before parents, in case a table references another without cascading.
    for (const table of [...TENANT_TABLES].reverse()) {
      const result = await (trx as Kysely<any>).deleteFrom(table).where('tenant_id', '=', tenantId).executeTakeFirst();
      counts[table] = Number(result.numDeletedRows);
    }
    await trx.deleteFrom('tenants').where('id', '=', tenantId).execute();
    return counts;
  });
}

/**
 * Streams every exportable row of a tenant, table by table, page by page, with secrets removed.
 * `db` must be a tenant-bound handle (the scope guard checks every query).
 */
export async function* exportTenantRows(db: Kysely<Database>, tenantId: string): AsyncGenerator<{ table: string; row: Record<string, unknown> }> {
  for (const table of TENANT_TABLES) {
    if (EXPORT_EXCLUDED_TABLES.has(table)) continue;
    const redacted = new Set(EXPORT_REDACTED_COLUMNS[table] ?? []);
    for (let offset = 0; ; offset += PAGE) {
      // Untyped on purpose: one loop over every table; the guard still requires the tenant filter.
      let query = (db as Kysely<any>).selectFrom(table).selectAll().where('tenant_id', '=', tenantId);
      for (const key of ORDER_KEYS[table] ?? ['id']) query = query.orderBy(key);
      const rows = (await query.limit(PAGE).offset(offset).execute()) as Array<Record<string, unknown>>;
      for (const row of rows) {
        const clean: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(row)) if (!redacted.has(key)) clean[key] = value;
        yield { table, row: clean };
      }
      if (rows.length < PAGE) break;
    }
  }
}
