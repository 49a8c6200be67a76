import type { Kysely } from 'kysely';
import type { Database, SamlSessionsTable } from '../database.js';
import { toNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

/** A person's session at a SAML partner: what a LogoutRequest names ([SAMLCore] 3.7.1). */
export interface SamlSessionRecord {
  id: string;
  connectionId: string;
  accountId: string;
  nameId: string;
  nameIdFormat: string | undefined;
  nameQualifier: string | undefined;
  spNameQualifier: string | undefined;
  sessionIndex: string | undefined;
  createdAt: number;
  expiresAt: number;
}

function fromRow(row: SamlSessionsTable): SamlSessionRecord {
  return {
    id: row.id,
    connectionId: row.connection_id,
    accountId: row.account_id,
    nameId: row.name_id,
    nameIdFormat: row.name_id_format ?? undefined,
    nameQualifier: row.name_qualifier ?? undefined,
    spNameQualifier: row.sp_name_qualifier ?? undefined,
    sessionIndex: row.session_index ?? undefined,
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
  };
}

export class SamlSessionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async insert(session: Omit<SamlSessionRecord, 'createdAt'>): Promise<void> {
    await this.db
      .insertInto('saml_sessions')
      .values({
        tenant_id: this.tenantId,
        id: session.id,
        connection_id: session.connectionId,
        account_id: session.accountId,
        name_id: session.nameId,
        name_id_format: session.nameIdFormat ?? null,
        name_qualifier: session.nameQualifier ?? null,
        sp_name_qualifier: session.spNameQualifier ?? null,
        session_index: session.sessionIndex ?? null,
        created_at: this.clock.now(),
        expires_at: session.expiresAt,
      })
      .execute();
  }

  private live() {
    return this.db.selectFrom('saml_sessions').selectAll().where('tenant_id', '=', this.tenantId).where('expires_at', '>', this.clock.now());
  }

  async findByNameId(connectionId: string, nameId: string): Promise<SamlSessionRecord[]> {
    const rows = await this.live().where('connection_id', '=', connectionId).where('name_id', '=', nameId).execute();
    return rows.map(fromRow);
  }

  async listByAccount(accountId: string): Promise<SamlSessionRecord[]> {
    const rows = await this.live().where('account_id', '=', accountId).orderBy('created_at', 'desc').execute();
    return rows.map(fromRow);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('saml_sessions').where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
  }
}
