import { randomId } from '../crypto/secrets.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import type { ExternalIdentity } from '../connectors/connector.js';
import { directoryTransaction, type DirectoryWriter } from './directory-writer.js';

export interface LinkResult {
  user: UserRecord;
  created: boolean;
}

/**
 * Just-in-time provisioning: turns an identity from a connector into a user of the tenant
 * directory, linked by the source's immutable id, so a renamed account keeps its subject, its
 * sessions and its consents. Profile attributes are refreshed from the source on every sign-in;
 * the user's memberships in groups of that source become exactly the groups the source reported
 * (groups identified by their external id, never by their name). Runs in one directory
 * transaction: what changed is recorded in the change feed (via `sign-in`); a sign-in that
 * brings nothing new records nothing.
 */
export async function linkExternalIdentity(store: TenantStore, identity: ExternalIdentity): Promise<LinkResult> {
  return directoryTransaction(store, { actor: { type: 'system', id: identity.source }, via: 'sign-in' }, async (dir) => {
    const trx = dir.store;
    const profile = {
      username: identity.username,
      email: identity.email,
      emailVerified: identity.emailVerified ?? false,
      givenName: identity.givenName,
      familyName: identity.familyName,
      displayName: identity.displayName ?? ([identity.givenName, identity.familyName].filter(Boolean).join(' ') || undefined),
      phone: identity.phone,
    };
    let user = await trx.users.findByExternalId(identity.source, identity.externalId);
    let created = false;
    if (user) {
      const attributes = { ...user.attributes, ...identity.attributes, roles: identity.roles };
      user = (await dir.updateUser(user.id, { ...profile, attributes }))!;
    } else {
      user = await dir.createUser({
        id: randomId(),
        ...profile,
        address: undefined,
        status: 'active',
        passwordHash: undefined,
        source: identity.source,
        externalId: identity.externalId,
        attributes: { ...identity.attributes, roles: identity.roles },
      });
      created = true;
    }
    await syncSourceGroups(dir, user.id, identity);
    return { user, created };
  });
}

async function syncSourceGroups(dir: DirectoryWriter, userId: string, identity: ExternalIdentity): Promise<void> {
  const store = dir.store;
  const wanted = new Set<string>();
  for (const g of identity.groups) {
    let group = await store.groups.findByExternalId(identity.source, g.externalId);
    if (!group) {
      group = await dir.createGroup({ id: randomId(), name: g.name, displayName: g.displayName, source: identity.source, externalId: g.externalId });
    } else if (group.name !== g.name || group.displayName !== g.displayName) {
      await dir.updateGroup(group.id, { name: g.name, displayName: g.displayName });
    }
    wanted.add(group.id);
    await dir.addMember(group.id, 'user', userId);
  }
  // Leave memberships in other sources' groups (local groups an admin added) untouched.
  for (const groupId of await store.groups.directParents('user', [userId])) {
    if (wanted.has(groupId)) continue;
    const group = await store.groups.get(groupId);
    if (group?.source === identity.source) await dir.removeMember(groupId, 'user', userId);
  }
}
