import type { Kysely } from 'kysely';
import type { Database, TenantsTable } from '../database.js';
import { parseJson, toJson, toNumber } from '../rows.js';
import type { TenantStatus } from '../../tenants/tenant-id.js';
import { parseTenantSettings, type TenantSettings } from '../../tenants/tenant-settings.js';
import type { Clock } from '../../clock.js';

export interface TenantRecord {
  id: string;
  displayName: string;
  status: TenantStatus;
  settings: TenantSettings;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

export function tenantFromRow(row: TenantsTable): TenantRecord {
  return {
    id: row.id,
    displayName: row.display_name,
    status: row.status as TenantStatus,
    settings: parseTenantSettings(parseJson<unknown>(row.settings, {})),
    revision: toNumber(row.revision),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

/**
 * The list of tenants: the only cross-tenant part of the store API. It runs in the system scope
 * (on PostgreSQL the maintenance setting that row-level security allows), and is used to route
 * requests, to list tenants for operators and to create them. Everything inside a tenant goes
 * through a TenantStore bound to that tenant.
 */
export class TenantRegistry {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async get(id: string): Promise<TenantRecord | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && tenantFromRow(row);
  }

  async list(options: { limit?: number; after?: string } = {}): Promise<TenantRecord[]> {
    let q = this.db.selectFrom('tenants').selectAll().orderBy('id');
    if (options.after) q = q.where('id', '>', options.after);
    const rows = await q.limit(options.limit ?? 1000).execute();
    return rows.map(tenantFromRow);
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return toNumber(row.n);
  }

  async insert(record: { id: string; displayName: string; status: TenantStatus; settings: TenantSettings }): Promise<TenantRecord> {
    const now = this.clock.now();
    const row: TenantsTable = {
      id: record.id,
      display_name: record.displayName,
      status: record.status,
      settings: toJson(record.settings),
      revision: 1,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('tenants').values(row).execute();
    return tenantFromRow(row);
  }

  async update(
    id: string,
    patch: Partial<Pick<TenantRecord, 'displayName' | 'status' | 'settings'>>,
  ): Promise<TenantRecord | undefined> {
    const set: Partial<TenantsTable> = { updated_at: this.clock.now() };
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.settings !== undefined) set.settings = toJson(patch.settings);
    await this.db
      .updateTable('tenants')
      .set((eb) => ({ ...set, revision: eb('revision', '+', 1) }))
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('tenants').where('id', '=', id).execute();
  }
}
