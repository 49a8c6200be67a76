import { randomId } from '../crypto/secrets.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord } from '../store/repositories/user-repository.js';
import type { ExternalIdentity } from '../connectors/connector.js';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { directoryTransaction, type DirectoryWriter } from './directory-writer.js';

export interface LinkResult {
  user: UserRecord;
  created: boolean;
  /** True when the identity was linked to a user of another source (link-by-attribute). */
  linked?: boolean;
}

/**
 * How a first sign-in from a source finds its user: `jit` creates one; `link` links to an
 * existing user of another source whose `linkBy` attribute matches (and refuses when there is
 * none); `link-or-jit` links when there is one and creates one otherwise.
 */
export interface LinkOptions {
  provisioning?: { mode: 'jit' | 'link' | 'link-or-jit'; linkBy?: 'email' | 'username' | undefined } | undefined;
}

/** Where a linked user records the ids it is known by in other sources: `{ "saml:<id>": "<external id>" }`. */
export const EXTERNAL_LINKS_ATTRIBUTE = 'externalLinks';

/** The profile fields of a user from an identity's fields; directory sync writes users with the same function. */
export function profileOf(identity: Pick<ExternalIdentity, 'username' | 'email' | 'emailVerified' | 'givenName' | 'familyName' | 'displayName' | 'phone'>) {
  return {
    username: identity.username,
    email: identity.email,
    emailVerified: identity.emailVerified ?? false,
    givenName: identity.givenName,
    familyName: identity.familyName,
    displayName: identity.displayName ?? ([identity.givenName, identity.familyName].filter(Boolean).join(' ') || undefined),
    phone: identity.phone,
  };
}

/**
 * Just-in-time provisioning: turns an identity from a connector into a user of the tenant
 * directory, linked by the source's immutable id, so a renamed account keeps its subject, its
 * sessions and its consents. Profile attributes are refreshed from the source on every sign-in;
 * the user's memberships in groups of that source become exactly the groups the source reported
 * (groups identified by their external id, never by their name). Runs in one directory
 * transaction: what changed is recorded in the change feed (via `sign-in`); a sign-in that brings
 * nothing new records nothing.
 */
export async function linkExternalIdentity(store: TenantStore, identity: ExternalIdentity, options: LinkOptions = {}): Promise<LinkResult> {
  return directoryTransaction(store, { actor: { type: 'system', id: identity.source }, via: 'sign-in' }, async (dir) => {
    const trx = dir.store;
    const profile = profileOf(identity);
    let user = await trx.users.findByExternalId(identity.source, identity.externalId);
    let created = false;
    const mode = options.provisioning?.mode ?? 'jit';
    if (user) {
      const attributes = { ...user.attributes, ...identity.attributes, roles: identity.roles };
      user = (await dir.updateUser(user.id, { ...profile, attributes }))!;
    } else if (mode !== 'jit' && (user = await linkCandidate(trx, identity, options.provisioning!.linkBy!))) {
      // A user of another source (a local account): its profile stays its own; only the link and
      // the memberships in this source's groups are kept up to date.
      const links = { ...((user.attributes[EXTERNAL_LINKS_ATTRIBUTE] as Record<string, string> | undefined) ?? {}), [identity.source]: identity.externalId };
      user = (await dir.updateUser(user.id, { attributes: { ...user.attributes, [EXTERNAL_LINKS_ATTRIBUTE]: links } }))!;
      await syncSourceGroups(dir, user.id, identity);
      return { user, created: false, linked: true };
    } else if (mode === 'link') {
      throw new GatehouseError('identity.link_not_found', `no user with this ${options.provisioning!.linkBy} to link the ${identity.source} sign-in to`, { status: 403 });
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
    if (!(await membershipsSynced(trx, identity))) await syncSourceGroups(dir, user.id, identity);
    return { user, created };
  });
}

/**
 * Whether directory sync keeps this user's memberships (its ledger knows the user). Sign-in then
 * leaves them alone: sync keeps nested groups as groups in groups, while a sign-in reports every
 * group the person is in, nested ones included, and would make them direct memberships (which
 * is right only when nothing else keeps the nesting). Both give the same effective groups.
 */
async function membershipsSynced(store: TenantStore, identity: ExternalIdentity): Promise<boolean> {
  if (!identity.source.startsWith('ldap:')) return false;
  const connectionId = identity.source.slice('ldap:'.length);
  return (await store.sync.objectsByExternalId(connectionId, 'user', [identity.externalId])).size > 0;
}

/**
 * The one user of another source whose attribute matches, when it is not already linked to a
 * different identity of this source (which would let a second partner account take it over).
 */
async function linkCandidate(store: TenantStore, identity: ExternalIdentity, linkBy: 'email' | 'username'): Promise<UserRecord | undefined> {
  const value = linkBy === 'email' ? identity.email : identity.username;
  if (!value) return undefined;
  const found = linkBy === 'email' ? await store.users.findByEmail(value) : await store.users.findAllByUsername(value);
  const candidates = found.filter((u) => u.source !== identity.source);
  if (candidates.length > 1) throw new GatehouseError('identity.link_ambiguous', `${candidates.length} users have this ${linkBy}; none is linked`, { status: 403 });
  const candidate = candidates[0];
  const existing = (candidate?.attributes[EXTERNAL_LINKS_ATTRIBUTE] as Record<string, string> | undefined)?.[identity.source];
  if (candidate && existing !== undefined && existing !== identity.externalId) {
    throw new GatehouseError('identity.link_conflict', `the user with this ${linkBy} is linked to another ${identity.source} identity`, { status: 403 });
  }
  return candidate;
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
