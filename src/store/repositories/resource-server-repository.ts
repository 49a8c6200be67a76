import type { Kysely } from 'kysely';
import type { Database, ResourceServersTable } from '../database.js';
import { parseJson, toJson, toNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

export interface ResourceServerSettings {
  scopes: string[];
  accessTokenFormat: 'jwt' | 'opaque';
  accessTokenTtl: number;
  userClaims: string[];
  declared?: boolean | undefined;
}

export interface ResourceServerRecord {
  identifier: string;
  name: string | undefined;
  settings: ResourceServerSettings;
  createdAt: number;
  updatedAt: number;
}

function fromRow(row: ResourceServersTable): ResourceServerRecord {
  return {
    identifier: row.identifier,
    name: row.name ?? undefined,
    settings: parseJson<ResourceServerSettings>(row.config, {} as ResourceServerSettings),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

export class ResourceServerRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async get(identifier: string): Promise<ResourceServerRecord | undefined> {
    const row = await this.db
      .selectFrom('resource_servers')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async list(): Promise<ResourceServerRecord[]> {
    const rows = await this.db
      .selectFrom('resource_servers')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .orderBy('identifier')
      .execute();
    return rows.map(fromRow);
  }

  async upsert(record: { identifier: string; name: string | undefined; settings: ResourceServerSettings }): Promise<'created' | 'updated'> {
    const now = this.clock.now();
    const existing = await this.get(record.identifier);
    if (existing) {
      await this.db
        .updateTable('resource_servers')
        .set({ name: record.name ?? null, config: toJson(record.settings), updated_at: now })
        .where('tenant_id', '=', this.tenantId)
        .where('identifier', '=', record.identifier)
        .execute();
      return 'updated';
    }
    await this.db
      .insertInto('resource_servers')
      .values({
        tenant_id: this.tenantId,
        identifier: record.identifier,
        name: record.name ?? null,
        config: toJson(record.settings),
        created_at: now,
        updated_at: now,
      })
      .execute();
    return 'created';
  }

  async delete(identifier: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('resource_servers')
      .where('tenant_id', '=', this.tenantId)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
