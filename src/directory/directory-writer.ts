import type { TenantStore } from '../store/tenant-store.js';
import type { NewUser, UserPatch, UserRecord } from '../store/repositories/user-repository.js';
import type { GroupPatch, GroupRecord, NewGroup } from '../store/repositories/group-repository.js';
import type { DirectoryChangeRecord, NewDirectoryChange } from '../store/repositories/directory-change-repository.js';
import type { Actor } from '../audit/audit-log.js';
import { canonicalJson, groupSnapshot, userSnapshot } from './directory-snapshots.js';
import { GatehouseError } from '../errors/gatehouse-error.js';

/**
 * Who and what changes the directory; recorded on every change-feed entry.
 * `via` names the channel: `scim`, `cli`, `sign-in` (just-in-time, LDAP or SAML), `sync:<connection>`, `config`.
 */
export interface ChangeOrigin {
  actor: Actor;
  via: string;
}

/** The user attributes a change can name in `changed` (the password only as "password"). */
const USER_FIELDS: ReadonlyArray<[keyof UserPatch, string]> = [
  ['username', 'username'],
  ['email', 'email'],
  ['emailVerified', 'emailVerified'],
  ['givenName', 'givenName'],
  ['familyName', 'familyName'],
  ['displayName', 'displayName'],
  ['phone', 'phone'],
  ['address', 'address'],
  ['status', 'status'],
  ['passwordHash', 'password'],
  ['source', 'source'],
  ['externalId', 'externalId'],
  ['attributes', 'attributes'],
];

const GROUP_FIELDS: ReadonlyArray<[keyof GroupPatch, string]> = [
  ['name', 'name'],
  ['displayName', 'displayName'],
  ['externalId', 'externalId'],
];

/** Usernames and emails are stored lowercased: compare them the way they will be stored. */
function normalised(field: keyof UserPatch, value: unknown): unknown {
  if ((field === 'username' || field === 'email') && typeof value === 'string') return value.toLowerCase();
  return value ?? null;
}

/**
 * The one way to change users, groups and memberships of a tenant directory. Every writer (the
 * CLI's user service, just-in-time sign-in through LDAP and SAML, SCIM, and the LDAP sync engine)
 * goes through it, so that each change is recorded in the change feed in the same transaction
 * as the change itself: a change is in the feed if and only if it was committed.
 *
 * Obtain one with `directoryTransaction`; it is only valid inside that transaction. Updates
 * that change nothing are not written and not recorded (a sign-in that brings the same profile
 * again leaves no trace in the feed).
 */
export class DirectoryWriter {
  /** The changes recorded so far in this transaction (the caller may audit or return them). */
  readonly changes: DirectoryChangeRecord[] = [];

  constructor(
    /** The transaction's store: reads through it see this transaction's own writes. */
    readonly store: TenantStore,
    private readonly origin: ChangeOrigin,
  ) {}

  private async record(change: Omit<NewDirectoryChange, 'actor' | 'via'>): Promise<void> {
    this.changes.push(
      await this.store.directoryChanges.append({ ...change, actor: { type: this.origin.actor.type, id: this.origin.actor.id }, via: this.origin.via }),
    );
  }

  private async recordMany(changes: Array<Omit<NewDirectoryChange, 'actor' | 'via'>>): Promise<void> {
    const actor = { type: this.origin.actor.type, id: this.origin.actor.id };
    this.changes.push(...(await this.store.directoryChanges.appendMany(changes.map((c) => ({ ...c, actor, via: this.origin.via })))));
  }

  /**
   * Creates several users at once (multi-row inserts), each recorded as its own change, as
   * createUser would: for writers that bring many objects (directory sync).
   */
  async createUsers(users: NewUser[]): Promise<UserRecord[]> {
    if (users.length === 0) return [];
    const created = await this.store.users.insertMany(users);
    await this.recordMany(created.map((u) => ({ objectType: 'user', objectId: u.id, kind: 'created', version: u.version, changed: undefined, data: { ...userSnapshot(u) } })));
    return created;
  }

  /** Creates several groups at once, each recorded as its own change. */
  async createGroups(groups: NewGroup[]): Promise<GroupRecord[]> {
    if (groups.length === 0) return [];
    const created = await this.store.groups.insertMany(groups);
    await this.recordMany(created.map((g) => ({ objectType: 'group', objectId: g.id, kind: 'created', version: g.version, changed: undefined, data: { ...groupSnapshot(g) } })));
    return created;
  }

  /**
   * Adds several direct members to a group at once, each recorded as its own member_added with
   * its own version. The caller has established that none is a member yet (a duplicate fails the
   * transaction rather than being skipped: addMember is the one-at-a-time form that skips).
   */
  async addMembers(groupId: string, members: Array<{ type: 'user' | 'group'; id: string }>): Promise<void> {
    if (members.length === 0) return;
    if (members.some((m) => m.type === 'group' && m.id === groupId)) throw new GatehouseError('directory.group_contains_itself', 'a group cannot be a member of itself');
    await this.store.groups.addMembersMany(groupId, members);
    const last = await this.store.groups.bumpVersionBy(groupId, members.length);
    const first = last - members.length + 1;
    await this.recordMany(
      members.map((m, i) => ({ objectType: 'group', objectId: groupId, kind: 'member_added', version: first + i, changed: ['members'], data: { member: { type: m.type, id: m.id } } })),
    );
  }

  async createUser(user: NewUser): Promise<UserRecord> {
    const created = await this.store.users.insert(user);
    await this.record({ objectType: 'user', objectId: created.id, kind: 'created', version: created.version, changed: undefined, data: { ...userSnapshot(created) } });
    return created;
  }

  /** Applies the fields of `patch` that differ from the stored user; returns the user as it is now. */
  async updateUser(id: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const current = await this.store.users.get(id);
    if (!current) return undefined;
    const effective: UserPatch = {};
    const changed: string[] = [];
    for (const [field, name] of USER_FIELDS) {
      if (!(field in patch)) continue;
      const next = patch[field];
      if (canonicalJson(normalised(field, next)) === canonicalJson(normalised(field, current[field]))) continue;
      (effective as Record<string, unknown>)[field] = next;
      changed.push(name);
    }
    if (changed.length === 0) return current;
    const updated = (await this.store.users.update(id, effective))!;
    await this.record({ objectType: 'user', objectId: id, kind: 'updated', version: updated.version, changed, data: { ...userSnapshot(updated) } });
    return updated;
  }

  /**
   * Deletes a user and their memberships: each membership's end is recorded on its group first
   * (consumers that keep member lists need it), then the user's deletion with its last state.
   */
  async deleteUser(id: string): Promise<boolean> {
    const current = await this.store.users.get(id);
    if (!current) return false;
    for (const groupId of await this.store.groups.directParents('user', [id])) await this.removeMember(groupId, 'user', id);
    // Nothing of a deleted person may outlive them: second factors, sessions, consents, tokens.
    await this.store.mfa.deleteAll(id);
    await this.store.oidc.deleteByAccount(id);
    await this.store.users.delete(id);
    await this.record({ objectType: 'user', objectId: id, kind: 'deleted', version: current.version + 1, changed: undefined, data: { ...userSnapshot(current) } });
    return true;
  }

  async createGroup(group: NewGroup): Promise<GroupRecord> {
    const created = await this.store.groups.insert(group);
    await this.record({ objectType: 'group', objectId: created.id, kind: 'created', version: created.version, changed: undefined, data: { ...groupSnapshot(created) } });
    return created;
  }

  async updateGroup(id: string, patch: GroupPatch): Promise<GroupRecord | undefined> {
    const current = await this.store.groups.get(id);
    if (!current) return undefined;
    const effective: GroupPatch = {};
    const changed: string[] = [];
    for (const [field, name] of GROUP_FIELDS) {
      if (!(field in patch)) continue;
      if ((patch[field] ?? null) === (current[field] ?? null)) continue;
      (effective as Record<string, unknown>)[field] = patch[field];
      changed.push(name);
    }
    if (changed.length === 0) return current;
    await this.store.groups.update(id, effective);
    const updated = (await this.store.groups.get(id))!;
    await this.record({ objectType: 'group', objectId: id, kind: 'updated', version: updated.version, changed, data: { ...groupSnapshot(updated) } });
    return updated;
  }

  /** Deletes a group: its memberships in other groups end first (recorded), then the group. */
  async deleteGroup(id: string): Promise<boolean> {
    const current = await this.store.groups.get(id);
    if (!current) return false;
    for (const parent of await this.store.groups.directParents('group', [id])) await this.removeMember(parent, 'group', id);
    await this.store.groups.delete(id);
    await this.record({ objectType: 'group', objectId: id, kind: 'deleted', version: current.version + 1, changed: undefined, data: { ...groupSnapshot(current) } });
    return true;
  }

  /** Adds a direct member; false (and nothing recorded) when it already was one. */
  async addMember(groupId: string, memberType: 'user' | 'group', memberId: string): Promise<boolean> {
    if (memberType === 'group' && memberId === groupId) throw new GatehouseError('directory.group_contains_itself', 'a group cannot be a member of itself');
    if (!(await this.store.groups.addMember(groupId, memberType, memberId))) return false;
    const version = await this.store.groups.bumpVersion(groupId);
    await this.record({ objectType: 'group', objectId: groupId, kind: 'member_added', version, changed: ['members'], data: { member: { type: memberType, id: memberId } } });
    return true;
  }

  async removeMember(groupId: string, memberType: 'user' | 'group', memberId: string): Promise<boolean> {
    if (!(await this.store.groups.removeMember(groupId, memberType, memberId))) return false;
    const version = await this.store.groups.bumpVersion(groupId);
    await this.record({ objectType: 'group', objectId: groupId, kind: 'member_removed', version, changed: ['members'], data: { member: { type: memberType, id: memberId } } });
    return true;
  }
}

/**
 * Runs `work` in one transaction of the tenant with a DirectoryWriter. The tenant's change
 * counter is locked first, before any directory row is read or written: writers of one tenant
 * therefore take turns for the length of their transaction (keep them short: one object or a
 * few), their sequence numbers are gap-free and in commit order, two writers can never deadlock
 * on each other's rows, and a read made inside `work` sees the latest committed state (which
 * makes read-check-write sequences, such as SCIM's If-Match, safe). On SQLite the lock being the
 * first statement also takes the write lock at once instead of failing to upgrade a read later.
 */
export async function directoryTransaction<T>(store: TenantStore, origin: ChangeOrigin, work: (writer: DirectoryWriter) => Promise<T>): Promise<T> {
  return store.transaction(async (trx) => {
    await trx.directoryChanges.lockSequence();
    return work(new DirectoryWriter(trx, origin));
  });
}
