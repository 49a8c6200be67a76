import type { Kysely } from 'kysely';
import type { Database, UsersTable } from '../database.js';
import { userFilterExpression, type DirectoryFilter, type UserFilterColumn } from './directory-filter.js';
import { parseJson, toJson, toNumber } from '../rows.js';
import type { Clock } from '../../clock.js';

export interface AddressClaim {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

export type UserStatus = 'active' | 'disabled';

export interface UserRecord {
  /** The OIDC subject: random, stable, never reused, carries no personal data. */
  id: string;
  username: string;
  email: string | undefined;
  emailVerified: boolean;
  givenName: string | undefined;
  familyName: string | undefined;
  displayName: string | undefined;
  phone: string | undefined;
  address: AddressClaim | undefined;
  status: UserStatus;
  passwordHash: string | undefined;
  source: string;
  externalId: string | undefined;
  attributes: Record<string, unknown>;
  /** Starts at 1 and grows with every change (SCIM meta.version, RFC 7644 3.14). */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export type NewUser = Omit<UserRecord, 'createdAt' | 'updatedAt' | 'version'>;
export type UserPatch = Partial<Omit<UserRecord, 'id' | 'createdAt' | 'updatedAt' | 'version'>>;

function fromRow(row: UsersTable): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email ?? undefined,
    emailVerified: toNumber(row.email_verified) === 1,
    givenName: row.given_name ?? undefined,
    familyName: row.family_name ?? undefined,
    displayName: row.display_name ?? undefined,
    phone: row.phone ?? undefined,
    address: parseJson<AddressClaim | undefined>(row.address, undefined),
    status: row.status as UserStatus,
    passwordHash: row.password_hash ?? undefined,
    source: row.source,
    externalId: row.external_id ?? undefined,
    attributes: parseJson<Record<string, unknown>>(row.attributes, {}),
    version: toNumber(row.version ?? 1),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

function toColumns(patch: UserPatch): Partial<UsersTable> {
  const set: Partial<UsersTable> = {};
  if ('username' in patch && patch.username !== undefined) set.username = patch.username;
  if ('email' in patch) set.email = patch.email ?? null;
  if ('emailVerified' in patch) set.email_verified = patch.emailVerified ? 1 : 0;
  if ('givenName' in patch) set.given_name = patch.givenName ?? null;
  if ('familyName' in patch) set.family_name = patch.familyName ?? null;
  if ('displayName' in patch) set.display_name = patch.displayName ?? null;
  if ('phone' in patch) set.phone = patch.phone ?? null;
  if ('address' in patch) set.address = patch.address ? toJson(patch.address) : null;
  if ('status' in patch && patch.status) set.status = patch.status;
  if ('passwordHash' in patch) set.password_hash = patch.passwordHash ?? null;
  if ('source' in patch && patch.source) set.source = patch.source;
  if ('externalId' in patch) set.external_id = patch.externalId ?? null;
  if ('attributes' in patch) set.attributes = toJson(patch.attributes ?? {});
  return set;
}

export class UserRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  private base() {
    return this.db.selectFrom('users').selectAll().where('tenant_id', '=', this.tenantId);
  }

  async get(id: string): Promise<UserRecord | undefined> {
    const row = await this.base().where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  async getMany(ids: string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    return (await this.base().where('id', 'in', ids).execute()).map(fromRow);
  }

  /**
   * Usernames are matched case-insensitively (stored lowercased) and are unique per source: a
   * local "alice" and the "alice" of a directory connection are different people until linked.
   */
  async findByUsername(username: string, source = 'local'): Promise<UserRecord | undefined> {
    const row = await this.base().where('source', '=', source).where('username', '=', username.toLowerCase()).executeTakeFirst();
    return row && fromRow(row);
  }

  /** Users of every source with this username (the CLI accepts a username wherever it can be resolved). */
  async findAllByUsername(username: string): Promise<UserRecord[]> {
    return (await this.base().where('username', '=', username.toLowerCase()).execute()).map(fromRow);
  }

  async findByExternalId(source: string, externalId: string): Promise<UserRecord | undefined> {
    const row = await this.base().where('source', '=', source).where('external_id', '=', externalId).executeTakeFirst();
    return row && fromRow(row);
  }

  /** Users of a source by their external ids (directory sync reads a page of entries at once). */
  async findManyByExternalIds(source: string, externalIds: string[]): Promise<UserRecord[]> {
    const out: UserRecord[] = [];
    for (let i = 0; i < externalIds.length; i += 500) {
      const rows = await this.base().where('source', '=', source).where('external_id', 'in', externalIds.slice(i, i + 500)).execute();
      out.push(...rows.map(fromRow));
    }
    return out;
  }

  /** Users of a source by username (stored lowercased). */
  async findManyByUsernames(source: string, usernames: string[]): Promise<UserRecord[]> {
    const out: UserRecord[] = [];
    const names = [...new Set(usernames.map((u) => u.toLowerCase()))];
    for (let i = 0; i < names.length; i += 500) {
      const rows = await this.base().where('source', '=', source).where('username', 'in', names.slice(i, i + 500)).execute();
      out.push(...rows.map(fromRow));
    }
    return out;
  }

  /** The users of a source, a page at a time in id order (keyset: pass the last id seen). */
  async listBySource(source: string, page: { after?: string | undefined; limit: number }): Promise<UserRecord[]> {
    let q = this.base().where('source', '=', source);
    if (page.after !== undefined) q = q.where('id', '>', page.after);
    return (await q.orderBy('id').limit(page.limit).execute()).map(fromRow);
  }

  async findByEmail(email: string): Promise<UserRecord[]> {
    const rows = await this.base().where('email', '=', email.toLowerCase()).execute();
    return rows.map(fromRow);
  }

  async list(options: { limit?: number; after?: string } = {}): Promise<UserRecord[]> {
    let q = this.base().orderBy('username');
    if (options.after) q = q.where('username', '>', options.after);
    const rows = await q.limit(options.limit ?? 1000).execute();
    return rows.map(fromRow);
  }

  /**
   * A page of the users a directory filter selects, in a stable order (creation, then id), and
   * how many it selects in all (SCIM list responses, RFC 7644 3.4.2).
   */
  async search(filter: DirectoryFilter<UserFilterColumn> | undefined, page: { offset: number; limit: number }): Promise<{ total: number; users: UserRecord[] }> {
    const where = (q: ReturnType<UserRepository['base']>) => (filter ? q.where((eb) => userFilterExpression(eb, this.tenantId, filter)) : q);
    const counted = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where((eb) => (filter ? userFilterExpression(eb, this.tenantId, filter) : eb.lit(true)))
      .executeTakeFirst();
    const total = toNumber(counted?.n);
    if (page.limit <= 0 || total === 0) return { total, users: [] };
    const rows = await where(this.base()).orderBy('created_at').orderBy('id').offset(page.offset).limit(page.limit).execute();
    return { total, users: rows.map(fromRow) };
  }

  async insert(user: NewUser): Promise<UserRecord> {
    const [created] = await this.insertMany([user]);
    return created!;
  }

  /** Several users in multi-row inserts (directory sync creates a page of them at once). */
  async insertMany(users: NewUser[]): Promise<UserRecord[]> {
    const rows = users.map((user) => this.toRow(user));
    // Eighteen columns a row: 300 rows stay under SQLite's and PostgreSQL's parameter limits.
    for (let i = 0; i < rows.length; i += 300) await this.db.insertInto('users').values(rows.slice(i, i + 300)).execute();
    // The records from what was written, without reading the JSON back.
    return rows.map((row, i) => ({
      ...fromRow({ ...row, attributes: '{}', address: null }),
      address: users[i]!.address ? { ...users[i]!.address } : undefined,
      attributes: { ...(users[i]!.attributes ?? {}) },
    }));
  }

  private toRow(user: NewUser): UsersTable {
    const now = this.clock.now();
    return {
      tenant_id: this.tenantId,
      id: user.id,
      username: user.username.toLowerCase(),
      email: user.email?.toLowerCase() ?? null,
      email_verified: user.emailVerified ? 1 : 0,
      given_name: user.givenName ?? null,
      family_name: user.familyName ?? null,
      display_name: user.displayName ?? null,
      phone: user.phone ?? null,
      address: user.address ? toJson(user.address) : null,
      status: user.status,
      password_hash: user.passwordHash ?? null,
      source: user.source,
      external_id: user.externalId ?? null,
      attributes: toJson(user.attributes ?? {}),
      version: 1,
      created_at: now,
      updated_at: now,
    };
  }

  async update(id: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const set = toColumns(patch);
    if (set.username) set.username = set.username.toLowerCase();
    if (set.email) set.email = set.email.toLowerCase();
    await this.db
      .updateTable('users')
      .set((eb) => ({ ...set, updated_at: this.clock.now(), version: eb('version', '+', 1) }))
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
