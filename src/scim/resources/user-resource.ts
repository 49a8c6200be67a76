import { z } from 'zod';
import { randomId } from '../../crypto/secrets.js';
import { usernameSchema } from '../../users/user-service.js';
import type { UserPatch, UserRecord } from '../../store/repositories/user-repository.js';
import type { GroupRecord } from '../../store/repositories/group-repository.js';
import { directoryTransaction, type DirectoryWriter } from '../../directory/directory-writer.js';
import { notFound } from '../../errors/gatehouse-error.js';
import { scimError } from '../protocol/scim-error.js';
import { checkIfMatch, etagOf } from '../protocol/etag.js';
import { applyPatch, type PatchRequest } from '../protocol/patch-operations.js';
import type { ListRequest } from '../protocol/list-request.js';
import { listResponse } from '../protocol/list-request.js';
import { project } from '../protocol/projection.js';
import { ENTERPRISE_USER_SCHEMA_ID, USER_SCHEMA, USER_SCHEMA_ID } from './resource-schemas.js';
import { userFilter } from './resource-filters.js';
import { ownerOf, SCIM_SOURCE, scimOrigin, type ScimContext } from './scim-context.js';

/**
 * SCIM Users (RFC 7643 4.1) over the tenant directory.
 *
 * Ownership: users SCIM created (source `scim`) are SCIM's. Users of a directory connection
 * (`ldap:*`, `saml:*`) and local users (`local`, managed with the CLI) belong to their source:
 * SCIM reads them, and may change only the attributes the tenant lists in
 * `scim.writableAttributesOfSyncedUsers`, plus `externalId` (the SCIM client's own identifier,
 * kept aside so that the source's immutable id stays untouched). SCIM never deletes them.
 *
 * Deletion is a hard delete (RFC 7644 3.6: a deleted resource is gone for every later request);
 * a client that wants to keep the account deactivates it with `active: false`. The change feed
 * records the deletion with the user's last state.
 */

/** Entra sends booleans as the strings "True" and "False" in PATCH values. */
const booleanish = z.union([z.boolean(), z.string().regex(/^(true|false)$/i).transform((s) => s.toLowerCase() === 'true')]);
const text = (max: number) => z.string().max(max);
const multiValued = (value: z.ZodType<string>) => z.array(z.object({ value, type: z.string().max(64).nullish(), primary: booleanish.nullish() })).max(20);

/** The attributes Gatehouse keeps; anything else in the body is ignored (extension schemas included). */
export const scimUserInputSchema = z.object({
  userName: usernameSchema,
  externalId: text(256).nullish(),
  name: z.object({ givenName: text(200).nullish(), familyName: text(200).nullish(), formatted: text(200).nullish() }).nullish(),
  displayName: text(200).nullish(),
  active: booleanish.nullish(),
  emails: multiValued(z.email().max(320)).nullish(),
  phoneNumbers: multiValued(z.string().regex(/^\+?[0-9 ()./-]{3,40}$/, 'a phone number is digits, spaces and + ( ) . / -')).nullish(),
});

/** The directory fields a SCIM user sets, and the SCIM attribute each one belongs to. */
const FIELD_ATTRIBUTE: Record<string, string> = {
  username: 'userName',
  givenName: 'name',
  familyName: 'name',
  displayName: 'displayName',
  email: 'emails',
  phone: 'phoneNumbers',
  status: 'active',
};

function primaryOf(values: Array<{ value: string; primary?: boolean | null | undefined }> | null | undefined): string | undefined {
  if (!values || values.length === 0) return undefined;
  return (values.find((v) => v.primary) ?? values[0])!.value;
}

function parseInput(body: unknown): { fields: UserPatch; externalId: string | undefined } {
  const parsed = scimUserInputSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw scimError('scim.invalid_value', 'invalidValue', `${issue.path.join('.') || 'the user'}: ${issue.message}`);
  }
  const u = parsed.data;
  return {
    fields: {
      username: u.userName,
      givenName: u.name?.givenName ?? undefined,
      familyName: u.name?.familyName ?? undefined,
      displayName: u.displayName ?? u.name?.formatted ?? undefined,
      email: primaryOf(u.emails),
      phone: primaryOf(u.phoneNumbers),
      // Absent `active` keeps an account active (RFC 7643 4.1.1 leaves the default to the provider).
      status: u.active === false ? 'disabled' : 'active',
    },
    externalId: u.externalId ?? undefined,
  };
}

const scimExternalIdOf = (u: UserRecord): string | undefined =>
  u.source === SCIM_SOURCE ? u.externalId : typeof u.attributes.scimExternalId === 'string' ? u.attributes.scimExternalId : undefined;

export async function userRepresentation(ctx: ScimContext, u: UserRecord): Promise<Record<string, unknown>> {
  const direct = await ctx.store.groups.getMany(await ctx.store.groups.directParents('user', [u.id]));
  const directIds = new Set(direct.map((g) => g.id));
  const indirect = (await ctx.store.groups.effectiveGroupsOfUser(u.id)).filter((g) => !directIds.has(g.id));
  const groupRef = (g: GroupRecord, type: 'direct' | 'indirect') => ({ value: g.id, $ref: `${ctx.baseUrl}/Groups/${g.id}`, display: g.displayName ?? g.name, type });
  const name = Object.fromEntries(Object.entries({ givenName: u.givenName, familyName: u.familyName }).filter(([, v]) => v !== undefined));
  const externalId = scimExternalIdOf(u);
  return {
    schemas: [USER_SCHEMA_ID],
    id: u.id,
    ...(externalId !== undefined ? { externalId } : {}),
    userName: u.username,
    ...(Object.keys(name).length ? { name } : {}),
    ...(u.displayName !== undefined ? { displayName: u.displayName } : {}),
    active: u.status === 'active',
    ...(u.email ? { emails: [{ value: u.email, type: 'work', primary: true }] } : {}),
    ...(u.phone ? { phoneNumbers: [{ value: u.phone, type: 'work', primary: true }] } : {}),
    groups: [...direct.map((g) => groupRef(g, 'direct')), ...indirect.map((g) => groupRef(g, 'indirect'))],
    meta: {
      resourceType: 'User',
      created: new Date(u.createdAt).toISOString(),
      lastModified: new Date(u.updatedAt).toISOString(),
      location: `${ctx.baseUrl}/Users/${u.id}`,
      version: etagOf(u.version),
    },
  };
}

async function requireUser(store: ScimContext['store'], id: string): Promise<UserRecord> {
  const user = await store.users.get(id);
  if (!user) throw notFound('scim.not_found', `no user with id "${id}"`);
  return user;
}

/** userName is unique across the whole directory (RFC 7643 4.1.1: uniqueness "server"), whatever the source. */
async function requireUniqueUserName(dir: DirectoryWriter, username: string, self?: string): Promise<void> {
  const taken = (await dir.store.users.findAllByUsername(username)).filter((u) => u.id !== self);
  if (taken.length > 0) throw scimError('scim.uniqueness', 'uniqueness', `the userName "${username.toLowerCase()}" is already taken`, 409);
}

export async function listUsers(ctx: ScimContext, request: ListRequest) {
  const filter = request.filter ? userFilter(request.filter) : undefined;
  const { total, users } = await ctx.store.users.search(filter, { offset: request.startIndex - 1, limit: request.count });
  const resources = [];
  for (const u of users) resources.push(project(await userRepresentation(ctx, u), USER_SCHEMA_ID, request.attributes, request.excludedAttributes));
  return listResponse(total, request.startIndex, resources);
}

export async function getUser(ctx: ScimContext, id: string): Promise<UserRecord> {
  return requireUser(ctx.store, id);
}

export async function createUser(ctx: ScimContext, body: unknown): Promise<UserRecord> {
  const { fields, externalId } = parseInput(body);
  return directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    await requireUniqueUserName(dir, fields.username!);
    const user = await dir.createUser({
      id: randomId(),
      username: fields.username!,
      email: fields.email,
      emailVerified: false,
      givenName: fields.givenName,
      familyName: fields.familyName,
      displayName: fields.displayName,
      phone: fields.phone,
      address: undefined,
      status: fields.status ?? 'active',
      passwordHash: undefined,
      source: SCIM_SOURCE,
      externalId,
      attributes: {},
    });
    await ctx.audit.record(dir.store, { actor: ctx.actor, origin: ctx.origin, action: 'user.created', target: { type: 'user', id: user.id }, outcome: 'success', details: { username: user.username, via: 'scim' } });
    return user;
  });
}

/**
 * Writes the fields of a replaced or patched user, under the ownership rules; `externalId` is the
 * SCIM client's identifier (kept in the directory's external id for SCIM's own users, aside for others).
 */
async function writeUser(ctx: ScimContext, dir: DirectoryWriter, current: UserRecord, fields: UserPatch, externalId: string | undefined): Promise<UserRecord> {
  const patch: UserPatch = { ...fields };
  if (current.source === SCIM_SOURCE) {
    patch.externalId = externalId;
  } else {
    const allowed = new Set<string>(ctx.tenant.settings.scim.writableAttributesOfSyncedUsers);
    const refused = new Set<string>();
    for (const [field, attribute] of Object.entries(FIELD_ATTRIBUTE)) {
      const before = (current as unknown as Record<string, unknown>)[field] ?? undefined;
      const after = (patch as Record<string, unknown>)[field] ?? undefined;
      const same = typeof before === 'string' && typeof after === 'string' && (field === 'username' || field === 'email') ? before.toLowerCase() === after.toLowerCase() : before === after;
      if (same) delete (patch as Record<string, unknown>)[field];
      else if (!allowed.has(attribute)) refused.add(attribute);
    }
    if (refused.size > 0) {
      throw scimError(
        'scim.mutability',
        'mutability',
        `this user belongs to ${ownerOf(current.source)}; SCIM may not change ${[...refused].join(', ')} (tenant setting scim.writableAttributesOfSyncedUsers)`,
      );
    }
    if ((externalId ?? undefined) !== scimExternalIdOf(current)) {
      const attributes = { ...current.attributes };
      if (externalId === undefined) delete attributes.scimExternalId;
      else attributes.scimExternalId = externalId;
      patch.attributes = attributes;
    }
  }
  if (patch.username !== undefined && patch.username.toLowerCase() !== current.username) await requireUniqueUserName(dir, patch.username, current.id);
  const updated = (await dir.updateUser(current.id, patch))!;
  if (updated.version !== current.version) {
    await ctx.audit.record(dir.store, { actor: ctx.actor, origin: ctx.origin, action: 'user.updated', target: { type: 'user', id: current.id }, outcome: 'success', details: { changed: dir.changes.at(-1)?.changed, via: 'scim' } });
  }
  return updated;
}

export async function replaceUser(ctx: ScimContext, id: string, body: unknown): Promise<UserRecord> {
  const { fields, externalId } = parseInput(body);
  return directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    const current = await requireUser(dir.store, id);
    checkIfMatch(ctx.ifMatch, current.version);
    return writeUser(ctx, dir, current, fields, externalId);
  });
}

export async function patchUser(ctx: ScimContext, id: string, request: PatchRequest): Promise<UserRecord> {
  return directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    const current = await requireUser(dir.store, id);
    checkIfMatch(ctx.ifMatch, current.version);
    const patched = applyPatch(await userRepresentation({ ...ctx, store: dir.store }, current), request, USER_SCHEMA, [ENTERPRISE_USER_SCHEMA_ID.toLowerCase()]);
    const { fields, externalId } = parseInput(patched);
    return writeUser(ctx, dir, current, fields, externalId);
  });
}

export async function deleteUser(ctx: ScimContext, id: string): Promise<void> {
  await directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    const current = await requireUser(dir.store, id);
    checkIfMatch(ctx.ifMatch, current.version);
    if (current.source !== SCIM_SOURCE) {
      throw scimError('scim.not_owned', undefined, `this user belongs to ${ownerOf(current.source)}; SCIM cannot delete it (set active to false where allowed)`, 403);
    }
    await dir.deleteUser(id);
    await ctx.audit.record(dir.store, { actor: ctx.actor, origin: ctx.origin, action: 'user.deleted', target: { type: 'user', id }, outcome: 'success', details: { username: current.username, via: 'scim' } });
  });
}
