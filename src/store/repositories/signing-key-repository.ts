import type { Kysely } from 'kysely';
import type { Database, SigningKeysTable } from '../database.js';
import { toNumber, toOptionalNumber } from '../rows.js';

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateJwkSealed: string;
  createdAt: number;
  signsFrom: number;
  retiredAt: number | undefined;
  publishUntil: number | undefined;
}

function fromRow(row: SigningKeysTable): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    privateJwkSealed: row.private_jwk_sealed,
    createdAt: toNumber(row.created_at),
    signsFrom: toNumber(row.signs_from),
    retiredAt: toOptionalNumber(row.retired_at),
    publishUntil: toOptionalNumber(row.publish_until),
  };
}

export class SigningKeyRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
  ) {}

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .orderBy('signs_from', 'desc')
      .execute();
    return rows.map(fromRow);
  }

  async insert(key: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        tenant_id: this.tenantId,
        kid: key.kid,
        alg: key.alg,
        public_jwk: JSON.stringify(key.publicJwk),
        private_jwk_sealed: key.privateJwkSealed,
        created_at: key.createdAt,
        signs_from: key.signsFrom,
        retired_at: key.retiredAt ?? null,
        publish_until: key.publishUntil ?? null,
      })
      .execute();
  }

  async retire(kid: string, retiredAt: number, publishUntil: number): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ retired_at: retiredAt, publish_until: publishUntil })
      .where('tenant_id', '=', this.tenantId)
      .where('kid', '=', kid)
      .execute();
  }
}
