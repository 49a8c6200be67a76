import { z } from 'zod';
import { GatehouseError, notFound } from '../errors/gatehouse-error.js';
import { formatZodError } from '../config/zod-messages.js';
import { hashPassword, passwordProblem } from '../crypto/passwords.js';
import { randomId } from '../crypto/secrets.js';
import { isUniqueViolation } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord, UserStatus } from '../store/repositories/user-repository.js';
import type { GroupRecord } from '../store/repositories/group-repository.js';
import type { AuditLog, Actor, RequestOrigin } from '../audit/audit-log.js';
import { directoryTransaction, type DirectoryWriter } from '../directory/directory-writer.js';

/** Changes made here are the CLI's (and the configuration's) changes to local users. */
const via = (actor: Actor) => ({ actor, via: actor.type === 'system' && actor.id === 'config' ? 'config' : 'cli' });

export const usernameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\p{L}\p{N}._@+-]+$/u, 'a username is letters, digits and . _ @ + - (no spaces)');

export const newLocalUserSchema = z.strictObject({
  username: usernameSchema,
  email: z.email().optional(),
  emailVerified: z.boolean().default(false),
  givenName: z.string().max(200).optional(),
  familyName: z.string().max(200).optional(),
  displayName: z.string().max(200).optional(),
  phone: z.string().regex(/^\+?[0-9 ()-]{3,32}$/, 'a phone number is digits, spaces, ( ) - and an optional leading +').optional(),
  password: z.string().optional(),
  groups: z.array(z.string().min(1).max(200)).default([]),
});
export type NewLocalUser = z.input<typeof newLocalUserSchema>;

/** Users of a tenant's own directory (local accounts) and the groups they are in. */
export class UserService {
  constructor(private readonly audit: AuditLog) {}

  async create(store: TenantStore, raw: NewLocalUser, actor: Actor, origin?: RequestOrigin): Promise<UserRecord> {
    const parsed = newLocalUserSchema.safeParse(raw);
    if (!parsed.success) throw new GatehouseError('user.invalid', formatZodError('', parsed.error));
    const input = parsed.data;
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) throw new GatehouseError('user.weak_password', problem);
    }
    // Hash before the transaction: argon2 takes tens of milliseconds and must not hold a lock.
    const passwordHash = input.password !== undefined ? await hashPassword(input.password) : undefined;
    try {
      return await directoryTransaction(store, via(actor), async (dir) => {
        const trx = dir.store;
        const user = await dir.createUser({
          id: randomId(),
          username: input.username,
          email: input.email,
          emailVerified: input.emailVerified,
          givenName: input.givenName,
          familyName: input.familyName,
          displayName: input.displayName ?? ([input.givenName, input.familyName].filter(Boolean).join(' ') || undefined),
          phone: input.phone,
          address: undefined,
          status: 'active',
          passwordHash,
          source: 'local',
          externalId: undefined,
          attributes: {},
        });
        for (const group of input.groups) await this.addToGroupIn(dir, user, group);
        await this.audit.record(trx, { actor, origin, action: 'user.created', target: { type: 'user', id: user.id }, outcome: 'success', details: { username: user.username } });
        return user;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new GatehouseError('user.exists', `a user "${input.username}" already exists in this tenant`, { status: 409 });
      throw error;
    }
  }

  /** By id, or by a username that names one user (local users first). */
  async find(store: TenantStore, usernameOrId: string): Promise<UserRecord> {
    const byId = await store.users.get(usernameOrId);
    if (byId) return byId;
    const local = await store.users.findByUsername(usernameOrId, 'local');
    if (local) return local;
    const all = await store.users.findAllByUsername(usernameOrId);
    if (all.length > 1) {
      throw new GatehouseError('user.ambiguous', `several users are called "${usernameOrId}" (${all.map((u) => u.source).join(', ')}); use the user id`);
    }
    if (!all[0]) throw notFound('user.not_found', `no user "${usernameOrId}" in tenant "${store.tenantId}"`);
    return all[0];
  }

  list(store: TenantStore, options: { limit?: number; after?: string } = {}): Promise<UserRecord[]> {
    return store.users.list(options);
  }

  async setPassword(store: TenantStore, usernameOrId: string, password: string, actor: Actor): Promise<void> {
    const user = await this.find(store, usernameOrId);
    const problem = passwordProblem(password);
    if (problem) throw new GatehouseError('user.weak_password', problem);
    if (user.source !== 'local') {
      throw new GatehouseError('user.not_local', `user "${user.username}" comes from ${user.source}; change the password there`);
    }
    const passwordHash = await hashPassword(password);
    await directoryTransaction(store, via(actor), async (dir) => {
      await dir.updateUser(user.id, { passwordHash });
      await this.audit.record(dir.store, { actor, action: 'user.password_set', target: { type: 'user', id: user.id }, outcome: 'success' });
    });
  }

  async setStatus(store: TenantStore, usernameOrId: string, status: UserStatus, actor: Actor): Promise<UserRecord> {
    const user = await this.find(store, usernameOrId);
    return directoryTransaction(store, via(actor), async (dir) => {
      const updated = await dir.updateUser(user.id, { status });
      await this.audit.record(dir.store, { actor, action: status === 'disabled' ? 'user.disabled' : 'user.enabled', target: { type: 'user', id: user.id }, outcome: 'success' });
      return updated!;
    });
  }

  private async addToGroupIn(dir: DirectoryWriter, user: UserRecord, groupName: string): Promise<GroupRecord> {
    let group = await dir.store.groups.findByName(groupName, 'local');
    group ??= await dir.createGroup({ id: randomId(), name: groupName, displayName: undefined, source: 'local', externalId: undefined });
    await dir.addMember(group.id, 'user', user.id);
    return group;
  }

  async addToGroup(store: TenantStore, usernameOrId: string, groupName: string, actor: Actor): Promise<GroupRecord> {
    const user = await this.find(store, usernameOrId);
    return directoryTransaction(store, via(actor), async (dir) => {
      const group = await this.addToGroupIn(dir, user, groupName);
      await this.audit.record(dir.store, { actor, action: 'group.member_added', target: { type: 'group', id: group.id }, outcome: 'success', details: { user: user.id, group: groupName } });
      return group;
    });
  }

  async groupsOf(store: TenantStore, userId: string): Promise<GroupRecord[]> {
    return store.groups.effectiveGroupsOfUser(userId);
  }
}
