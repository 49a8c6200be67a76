import type { Kysely } from 'kysely';
import type { ClientsTable, Database } from '../database.js';
import { parseJson, toJson, toNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

/** The stored part of a client's settings (clients/client-schema.ts), never a secret. */
export interface ClientSettings {
  grantTypes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string | undefined;
  firstParty: boolean;
  scopes: string[];
  resources: Array<{ resource: string; scopes: string[] }>;
  tokenEndpointAuthMethod: string;
  jwks?: { keys: Array<Record<string, unknown>> } | undefined;
  jwksUri?: string | undefined;
  /** OIDC Core 4: where a third party (a SAML partner's IdP-initiated sign-in) starts a login for the app. */
  initiateLoginUri?: string | undefined;
  /** RFC 8693 delegation policy (tokens/token-exchange-policy.ts). */
  tokenExchange?: { resources: Array<{ resource: string; scopes: string[] }>; subjectAudiences?: string[] | undefined } | undefined;
  /** Set for clients that come from configuration: the CLI refuses to edit them. */
  declared?: boolean | undefined;
}

export interface ClientRecord {
  clientId: string;
  name: string | undefined;
  type: 'confidential' | 'public';
  secretDigest: string | undefined;
  settings: ClientSettings;
  createdAt: number;
  updatedAt: number;
}

function fromRow(row: ClientsTable): ClientRecord {
  return {
    clientId: row.client_id,
    name: row.name ?? undefined,
    type: row.type as ClientRecord['type'],
    secretDigest: row.secret_digest ?? undefined,
    settings: parseJson<ClientSettings>(row.config, {} as ClientSettings),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

export class ClientRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.db
      .selectFrom('clients')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.db.selectFrom('clients').selectAll().where('tenant_id', '=', this.tenantId).orderBy('client_id').execute();
    return rows.map(fromRow);
  }

  async insert(record: Omit<ClientRecord, 'createdAt' | 'updatedAt'>): Promise<ClientRecord> {
    const now = this.clock.now();
    const row: ClientsTable = {
      tenant_id: this.tenantId,
      client_id: record.clientId,
      name: record.name ?? null,
      type: record.type,
      secret_digest: record.secretDigest ?? null,
      config: toJson(record.settings),
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('clients').values(row).execute();
    return fromRow(row);
  }

  async update(clientId: string, patch: Partial<Pick<ClientRecord, 'name' | 'type' | 'secretDigest' | 'settings'>>): Promise<void> {
    const set: Partial<ClientsTable> = { updated_at: this.clock.now() };
    if ('name' in patch) set.name = patch.name ?? null;
    if (patch.type) set.type = patch.type;
    if ('secretDigest' in patch) set.secret_digest = patch.secretDigest ?? null;
    if (patch.settings) set.config = toJson(patch.settings);
    await this.db
      .updateTable('clients')
      .set(set)
      .where('tenant_id', '=', this.tenantId)
      .where('client_id', '=', clientId)
      .execute();
  }

  async delete(clientId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('clients')
      .where('tenant_id', '=', this.tenantId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
