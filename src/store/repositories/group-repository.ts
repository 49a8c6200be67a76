import type { Kysely } from 'kysely';
import type { Database, GroupsTable } from '../database.js';
import { toNumber } from '../rows.js';
import { groupFilterExpression, type DirectoryFilter, type GroupFilterColumn } from './directory-filter.js';
import type { Clock } from '../../clock.js';

export interface GroupRecord {
  id: string;
  name: string;
  displayName: string | undefined;
  source: string;
  externalId: string | undefined;
  /** Starts at 1 and grows with every change, changes of its direct members included. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export type NewGroup = Omit<GroupRecord, 'createdAt' | 'updatedAt' | 'version'>;
export type GroupPatch = Partial<Pick<GroupRecord, 'name' | 'displayName' | 'externalId'>>;

function fromRow(row: GroupsTable): GroupRecord {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name ?? undefined,
    source: row.source,
    externalId: row.external_id ?? undefined,
    version: toNumber(row.version ?? 1),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

/** Nested groups are followed this deep at most; deeper nesting is almost always a loop. */
export const MAX_GROUP_NESTING = 32;

export class GroupRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  private base() {
    return this.db.selectFrom('groups').selectAll().where('tenant_id', '=', this.tenantId);
  }

  async get(id: string): Promise<GroupRecord | undefined> {
    const row = await this.base().where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  async getMany(ids: string[]): Promise<GroupRecord[]> {
    if (ids.length === 0) return [];
    return (await this.base().where('id', 'in', ids).execute()).map(fromRow);
  }

  /** Local groups are unique by name; groups of a directory are unique by their external id. */
  async findByName(name: string, source = 'local'): Promise<GroupRecord | undefined> {
    const row = await this.base().where('source', '=', source).where('name', '=', name).executeTakeFirst();
    return row && fromRow(row);
  }

  async findByExternalId(source: string, externalId: string): Promise<GroupRecord | undefined> {
    const row = await this.base().where('source', '=', source).where('external_id', '=', externalId).executeTakeFirst();
    return row && fromRow(row);
  }

  /** Groups of a source by their external ids (directory sync reads a page of entries at once). */
  async findManyByExternalIds(source: string, externalIds: string[]): Promise<GroupRecord[]> {
    const out: GroupRecord[] = [];
    for (let i = 0; i < externalIds.length; i += 500) {
      const rows = await this.base().where('source', '=', source).where('external_id', 'in', externalIds.slice(i, i + 500)).execute();
      out.push(...rows.map(fromRow));
    }
    return out;
  }

  async list(): Promise<GroupRecord[]> {
    return (await this.base().orderBy('name').execute()).map(fromRow);
  }

  /** A page of the groups a directory filter selects (stable order), and how many it selects. */
  async search(filter: DirectoryFilter<GroupFilterColumn> | undefined, page: { offset: number; limit: number }): Promise<{ total: number; groups: GroupRecord[] }> {
    const counted = await this.db
      .selectFrom('groups')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where((eb) => (filter ? groupFilterExpression(eb, this.tenantId, filter) : eb.lit(true)))
      .executeTakeFirst();
    const total = toNumber(counted?.n);
    if (page.limit <= 0 || total === 0) return { total, groups: [] };
    const rows = await this.base()
      .where((eb) => (filter ? groupFilterExpression(eb, this.tenantId, filter) : eb.lit(true)))
      .orderBy('created_at')
      .orderBy('id')
      .offset(page.offset)
      .limit(page.limit)
      .execute();
    return { total, groups: rows.map(fromRow) };
  }

  async insert(group: NewGroup): Promise<GroupRecord> {
    const [created] = await this.insertMany([group]);
    return created!;
  }

  /** Several groups in multi-row inserts (directory sync creates a page of them at once). */
  async insertMany(groups: NewGroup[]): Promise<GroupRecord[]> {
    const now = this.clock.now();
    const rows: GroupsTable[] = groups.map((group) => ({
      tenant_id: this.tenantId,
      id: group.id,
      name: group.name,
      display_name: group.displayName ?? null,
      source: group.source,
      external_id: group.externalId ?? null,
      version: 1,
      created_at: now,
      updated_at: now,
    }));
    for (let i = 0; i < rows.length; i += 500) await this.db.insertInto('groups').values(rows.slice(i, i + 500)).execute();
    return rows.map(fromRow);
  }

  async update(id: string, patch: GroupPatch): Promise<void> {
    const set: Partial<GroupsTable> = { updated_at: this.clock.now() };
    if (patch.name !== undefined) set.name = patch.name;
    if ('displayName' in patch) set.display_name = patch.displayName ?? null;
    if ('externalId' in patch) set.external_id = patch.externalId ?? null;
    await this.db
      .updateTable('groups')
      .set((eb) => ({ ...set, version: eb('version', '+', 1) }))
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Marks a change of the group's members: a new version and modification time; returns the version. */
  async bumpVersion(id: string): Promise<number> {
    await this.db
      .updateTable('groups')
      .set((eb) => ({ updated_at: this.clock.now(), version: eb('version', '+', 1) }))
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
    return (await this.get(id))?.version ?? 0;
  }

  async delete(id: string): Promise<void> {
    await this.db
      .deleteFrom('group_members')
      .where('tenant_id', '=', this.tenantId)
      .where((eb) => eb.or([eb('group_id', '=', id), eb.and([eb('member_type', '=', 'group'), eb('member_id', '=', id)])]))
      .execute();
    await this.db.deleteFrom('groups').where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
  }

  async addMember(groupId: string, memberType: 'user' | 'group', memberId: string): Promise<boolean> {
    const exists = await this.db
      .selectFrom('group_members')
      .select('group_id')
      .where('tenant_id', '=', this.tenantId)
      .where('group_id', '=', groupId)
      .where('member_type', '=', memberType)
      .where('member_id', '=', memberId)
      .executeTakeFirst();
    if (exists) return false;
    await this.db
      .insertInto('group_members')
      .values({ tenant_id: this.tenantId, group_id: groupId, member_type: memberType, member_id: memberId })
      .execute();
    return true;
  }

  /** Adds direct members known not to be members yet (a duplicate fails the insert: callers check first). */
  async addMembersMany(groupId: string, members: Array<{ type: 'user' | 'group'; id: string }>): Promise<void> {
    const rows = members.map((m) => ({ tenant_id: this.tenantId, group_id: groupId, member_type: m.type, member_id: m.id }));
    for (let i = 0; i < rows.length; i += 1000) await this.db.insertInto('group_members').values(rows.slice(i, i + 1000)).execute();
  }

  /** Marks `count` changes of the group's members at once; returns the version after the last of them. */
  async bumpVersionBy(id: string, count: number): Promise<number> {
    const row = await this.db
      .updateTable('groups')
      .set((eb) => ({ updated_at: this.clock.now(), version: eb('version', '+', count) }))
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .returning('version')
      .executeTakeFirst();
    return toNumber(row?.version);
  }

  async removeMember(groupId: string, memberType: 'user' | 'group', memberId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('group_members')
      .where('tenant_id', '=', this.tenantId)
      .where('group_id', '=', groupId)
      .where('member_type', '=', memberType)
      .where('member_id', '=', memberId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async members(groupId: string): Promise<Array<{ type: 'user' | 'group'; id: string }>> {
    const rows = await this.db
      .selectFrom('group_members')
      .select(['member_type', 'member_id'])
      .where('tenant_id', '=', this.tenantId)
      .where('group_id', '=', groupId)
      .execute();
    return rows.map((r) => ({ type: r.member_type as 'user' | 'group', id: r.member_id }));
  }

  /** The direct members of several groups at once (directory sync compares a page of groups). */
  async membersOfMany(groupIds: string[]): Promise<Map<string, Array<{ type: 'user' | 'group'; id: string }>>> {
    const out = new Map<string, Array<{ type: 'user' | 'group'; id: string }>>(groupIds.map((id) => [id, []]));
    for (let i = 0; i < groupIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('group_members')
        .select(['group_id', 'member_type', 'member_id'])
        .where('tenant_id', '=', this.tenantId)
        .where('group_id', 'in', groupIds.slice(i, i + 500))
        .execute();
      for (const r of rows) out.get(r.group_id)?.push({ type: r.member_type as 'user' | 'group', id: r.member_id });
    }
    return out;
  }

  /** The groups that directly contain a user or group. */
  async directParents(memberType: 'user' | 'group', memberIds: string[]): Promise<string[]> {
    if (memberIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('group_members')
      .select('group_id')
      .where('tenant_id', '=', this.tenantId)
      .where('member_type', '=', memberType)
      .where('member_id', 'in', memberIds)
      .execute();
    return [...new Set(rows.map((r) => r.group_id))];
  }

  /**
   * Every group a user belongs to, directly or through nested groups (effective membership),
   * walked breadth-first with a visited set so that a membership loop cannot hang the walk.
   */
  async effectiveGroupsOfUser(userId: string): Promise<GroupRecord[]> {
    const seen = new Set<string>();
    let frontier = await this.directParents('user', [userId]);
    for (let depth = 0; frontier.length > 0 && depth < MAX_GROUP_NESTING; depth++) {
      frontier = frontier.filter((g) => !seen.has(g));
      frontier.forEach((g) => seen.add(g));
      frontier = await this.directParents('group', frontier);
    }
    if (seen.size === 0) return [];
    const rows = await this.base().where('id', 'in', [...seen]).orderBy('name').execute();
    return rows.map(fromRow);
  }
}
