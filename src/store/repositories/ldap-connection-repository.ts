import type { Kysely } from 'kysely';
import type { Database, LdapConnectionsTable } from '../database.js';
import { parseJson, toJson, toNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

/**
 * A stored LDAP connection. The settings are kept as the JSON the connection service validated
 * (connectors/ldap/ldap-settings.ts parses them again on every read, so the store does not depend
 * on the connector's types); the bind password only ever as a sealed value.
 */
export interface LdapConnectionRow {
  id: string;
  displayName: string;
  position: number;
  enabled: boolean;
  settings: unknown;
  bindPasswordSealed: string | undefined;
  createdAt: number;
  updatedAt: number;
}

function fromRow(row: LdapConnectionsTable): LdapConnectionRow {
  return {
    id: row.id,
    displayName: row.display_name,
    position: toNumber(row.position),
    enabled: toNumber(row.enabled) === 1,
    settings: parseJson<unknown>(row.settings, {}),
    bindPasswordSealed: row.bind_password_sealed ?? undefined,
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

export class LdapConnectionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  private base() {
    return this.db.selectFrom('ldap_connections').selectAll().where('tenant_id', '=', this.tenantId);
  }

  async get(id: string): Promise<LdapConnectionRow | undefined> {
    const row = await this.base().where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  /** In sign-in order: by position, then id (two connections may share a position). */
  async list(): Promise<LdapConnectionRow[]> {
    return (await this.base().orderBy('position').orderBy('id').execute()).map(fromRow);
  }

  /** The position after the last connection: where a new connection goes by default. */
  async nextPosition(): Promise<number> {
    const row = await this.db
      .selectFrom('ldap_connections')
      .select((eb) => eb.fn.max('position').as('max'))
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirst();
    const max = row?.max;
    return max === null || max === undefined ? 1 : toNumber(max as number) + 1;
  }

  async insert(record: Omit<LdapConnectionRow, 'createdAt' | 'updatedAt'>): Promise<LdapConnectionRow> {
    const now = this.clock.now();
    const row: LdapConnectionsTable = {
      tenant_id: this.tenantId,
      id: record.id,
      display_name: record.displayName,
      position: record.position,
      enabled: record.enabled ? 1 : 0,
      settings: toJson(record.settings),
      bind_password_sealed: record.bindPasswordSealed ?? null,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('ldap_connections').values(row).execute();
    return fromRow(row);
  }

  async update(id: string, patch: Partial<Pick<LdapConnectionRow, 'displayName' | 'position' | 'enabled' | 'settings' | 'bindPasswordSealed'>>): Promise<void> {
    const set: Partial<LdapConnectionsTable> = { updated_at: this.clock.now() };
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.position !== undefined) set.position = patch.position;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    if (patch.settings !== undefined) set.settings = toJson(patch.settings);
    if ('bindPasswordSealed' in patch) set.bind_password_sealed = patch.bindPasswordSealed ?? null;
    await this.db.updateTable('ldap_connections').set(set).where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('ldap_connections').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
