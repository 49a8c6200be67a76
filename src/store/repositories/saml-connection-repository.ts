import type { Kysely } from 'kysely';
import type { Database, SamlConnectionsTable } from '../database.js';
import { parseJson, toJson, toNumber, toOptionalNumber } from '../rows.js';
import type { Clock } from '../../clock.js';
import type { SamlConnectionSettings, SamlIdpDescriptor, SamlSpCertificates } from '../../connectors/saml/saml-connection-schema.js';

export interface SamlConnectionRecord {
  id: string;
  displayName: string;
  enabled: boolean;
  settings: SamlConnectionSettings;
  idp: SamlIdpDescriptor;
  spCertificates: SamlSpCertificates;
  spKeysSealed: string;
  metadataRefreshAt: number | undefined;
  /** Set for connections that come from configuration: the CLI refuses to edit them. */
  declared: boolean;
  createdAt: number;
  updatedAt: number;
}

interface StoredSettings {
  settings: SamlConnectionSettings;
  declared?: boolean;
}

function fromRow(row: SamlConnectionsTable): SamlConnectionRecord {
  const stored = parseJson<StoredSettings>(row.settings, { settings: {} as SamlConnectionSettings });
  return {
    id: row.id,
    displayName: row.display_name,
    enabled: toNumber(row.enabled) === 1,
    settings: stored.settings,
    idp: parseJson<SamlIdpDescriptor>(row.idp, { entityId: undefined, signingCertificates: [], sso: [], slo: [], source: 'manual' }),
    spCertificates: parseJson<SamlSpCertificates>(row.sp_certificates, {} as SamlSpCertificates),
    spKeysSealed: row.sp_keys_sealed,
    metadataRefreshAt: toOptionalNumber(row.metadata_refresh_at),
    declared: Boolean(stored.declared),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

export type NewSamlConnection = Omit<SamlConnectionRecord, 'createdAt' | 'updatedAt'>;
export type SamlConnectionPatch = Partial<Pick<SamlConnectionRecord, 'displayName' | 'enabled' | 'settings' | 'idp' | 'metadataRefreshAt' | 'declared'>>;

/** The SAML connections of one tenant. */
export class SamlConnectionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async get(id: string): Promise<SamlConnectionRecord | undefined> {
    const row = await this.db
      .selectFrom('saml_connections')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async list(): Promise<SamlConnectionRecord[]> {
    const rows = await this.db.selectFrom('saml_connections').selectAll().where('tenant_id', '=', this.tenantId).orderBy('id').execute();
    return rows.map(fromRow);
  }

  async insert(record: NewSamlConnection): Promise<SamlConnectionRecord> {
    const now = this.clock.now();
    const row: SamlConnectionsTable = {
      tenant_id: this.tenantId,
      id: record.id,
      display_name: record.displayName,
      enabled: record.enabled ? 1 : 0,
      settings: toJson({ settings: record.settings, ...(record.declared ? { declared: true } : {}) }),
      idp: toJson(record.idp),
      sp_certificates: toJson(record.spCertificates),
      sp_keys_sealed: record.spKeysSealed,
      metadata_refresh_at: record.metadataRefreshAt ?? null,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('saml_connections').values(row).execute();
    return fromRow(row);
  }

  async update(id: string, patch: SamlConnectionPatch): Promise<SamlConnectionRecord | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const set: Partial<SamlConnectionsTable> = { updated_at: this.clock.now() };
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    if (patch.settings !== undefined || patch.declared !== undefined) {
      const declared = patch.declared ?? current.declared;
      set.settings = toJson({ settings: patch.settings ?? current.settings, ...(declared ? { declared: true } : {}) });
    }
    if (patch.idp !== undefined) set.idp = toJson(patch.idp);
    if ('metadataRefreshAt' in patch) set.metadata_refresh_at = patch.metadataRefreshAt ?? null;
    await this.db.updateTable('saml_connections').set(set).where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('saml_connections').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
