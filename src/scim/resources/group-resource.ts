import { z } from 'zod';
import { randomId } from '../../crypto/secrets.js';
import type { GroupRecord } from '../../store/repositories/group-repository.js';
import { directoryTransaction, type DirectoryWriter } from '../../directory/directory-writer.js';
import { notFound } from '../../errors/gatehouse-error.js';
import type { TenantStore } from '../../store/tenant-store.js';
import { scimError } from '../protocol/scim-error.js';
import { checkIfMatch, etagOf } from '../protocol/etag.js';
import { applyPatch, type PatchRequest } from '../protocol/patch-operations.js';
import { listResponse, type ListRequest } from '../protocol/list-request.js';
import { project } from '../protocol/projection.js';
import { GROUP_SCHEMA, GROUP_SCHEMA_ID } from './resource-schemas.js';
import { groupFilter } from './resource-filters.js';
import { ownerOf, SCIM_SOURCE, scimOrigin, type ScimContext } from './scim-context.js';

/**
 * SCIM Groups (RFC 7643 4.2). Groups SCIM created (source `scim`) are SCIM's, members included;
 * their members may be users and groups of any source. Groups of a directory connection and
 * local groups are read-only through SCIM. A group's `displayName` is its name in the `groups`
 * claim; it is unique among SCIM's groups. Deletion is a hard delete; the change feed records the
 * end of each of its memberships in other groups, then the deletion.
 */
/** The largest member list one request may set; bigger groups are built with several PATCHes. */
export const MAX_MEMBERS_PER_REQUEST = 10_000;

export const scimGroupInputSchema = z.object({
  displayName: z.string().trim().min(1).max(200),
  externalId: z.string().max(256).nullish(),
  members: z
    .array(
      z.object({
        value: z.string().min(1).max(200),
        type: z
          .string()
          .transform((t) => t.toLowerCase())
          .pipe(z.enum(['user', 'group']))
          .nullish(),
      }),
    )
    .max(MAX_MEMBERS_PER_REQUEST)
    .nullish(),
});

type Member = { type: 'user' | 'group'; id: string };

function parseInput(body: unknown) {
  const parsed = scimGroupInputSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'too_big' && issue.path[0] === 'members') {
      throw scimError('scim.too_many', 'tooMany', `at most ${MAX_MEMBERS_PER_REQUEST} members per request; add the rest with PATCH`);
    }
    throw scimError('scim.invalid_value', 'invalidValue', `${issue.path.join('.') || 'the group'}: ${issue.message}`);
  }
  return parsed.data;
}

export async function groupRepresentation(ctx: ScimContext, g: GroupRecord, options: { members?: boolean } = {}): Promise<Record<string, unknown>> {
  let members: Array<Record<string, string>> = [];
  if (options.members !== false) {
    const all = await ctx.store.groups.members(g.id);
    const users = new Map((await ctx.store.users.getMany(all.filter((m) => m.type === 'user').map((m) => m.id))).map((u) => [u.id, u]));
    const groups = new Map((await ctx.store.groups.getMany(all.filter((m) => m.type === 'group').map((m) => m.id))).map((x) => [x.id, x]));
    members = all.map((m) => {
      const u = m.type === 'user' ? users.get(m.id) : undefined;
      const x = m.type === 'group' ? groups.get(m.id) : undefined;
      const display = u ? (u.displayName ?? u.username) : x ? (x.displayName ?? x.name) : undefined;
      return {
        value: m.id,
        $ref: `${ctx.baseUrl}/${m.type === 'user' ? 'Users' : 'Groups'}/${m.id}`,
        type: m.type === 'user' ? 'User' : 'Group',
        ...(display !== undefined ? { display } : {}),
      };
    });
  }
  const externalId = g.source === SCIM_SOURCE ? g.externalId : undefined;
  return {
    schemas: [GROUP_SCHEMA_ID],
    id: g.id,
    ...(externalId !== undefined ? { externalId } : {}),
    displayName: g.displayName ?? g.name,
    members,
    meta: {
      resourceType: 'Group',
      created: new Date(g.createdAt).toISOString(),
      lastModified: new Date(g.updatedAt).toISOString(),
      location: `${ctx.baseUrl}/Groups/${g.id}`,
      version: etagOf(g.version),
    },
  };
}

async function requireGroup(store: TenantStore, id: string): Promise<GroupRecord> {
  const group = await store.groups.get(id);
  if (!group) throw notFound('scim.not_found', `no group with id "${id}"`);
  return group;
}

function requireOwned(group: GroupRecord): void {
  if (group.source !== SCIM_SOURCE) {
    throw scimError('scim.mutability', 'mutability', `this group belongs to ${ownerOf(group.source)} and is read-only through SCIM`);
  }
}

async function requireUniqueName(store: TenantStore, name: string, self?: string): Promise<void> {
  const other = await store.groups.findByName(name, SCIM_SOURCE);
  if (other && other.id !== self) throw scimError('scim.uniqueness', 'uniqueness', `a group named "${name}" already exists`, 409);
}

/** Resolves `members[].value` to existing users and groups; an unknown id is an invalid value. */
async function resolveMembers(store: TenantStore, values: Array<{ value: string; type?: 'user' | 'group' | null | undefined }>): Promise<Member[]> {
  const unique = [...new Map(values.map((v) => [`${v.type ?? ''}:${v.value}`, v])).values()];
  const ids = unique.map((v) => v.value);
  const users = new Set((await store.users.getMany(unique.filter((v) => v.type !== 'group').map((v) => v.value))).map((u) => u.id));
  const groups = new Set((await store.groups.getMany(unique.filter((v) => v.type !== 'user' && !users.has(v.value)).map((v) => v.value))).map((g) => g.id));
  const missing = ids.filter((id) => !users.has(id) && !groups.has(id));
  if (missing.length) throw scimError('scim.invalid_value', 'invalidValue', `members: no user or group with id ${missing.slice(0, 5).map((m) => `"${m}"`).join(', ')}`);
  return unique.map((v) => ({ type: users.has(v.value) && v.type !== 'group' ? 'user' : 'group', id: v.value }));
}

/** Makes the group's direct members exactly `wanted` (removals first, then additions). */
async function setMembers(dir: DirectoryWriter, groupId: string, wanted: Member[]): Promise<void> {
  const key = (m: Member) => `${m.type}:${m.id}`;
  const current = await dir.store.groups.members(groupId);
  const wantedKeys = new Set(wanted.map(key));
  const currentKeys = new Set(current.map(key));
  for (const m of current) if (!wantedKeys.has(key(m))) await dir.removeMember(groupId, m.type, m.id);
  for (const m of wanted) if (!currentKeys.has(key(m))) await dir.addMember(groupId, m.type, m.id);
}

export async function listGroups(ctx: ScimContext, request: ListRequest) {
  const filter = request.filter ? groupFilter(request.filter) : undefined;
  const { total, groups } = await ctx.store.groups.search(filter, { offset: request.startIndex - 1, limit: request.count });
  // Member lists can be long: not loaded when the client excluded them (Entra asks so).
  const withMembers = !(request.excludedAttributes?.some((a) => a.toLowerCase().endsWith('members')) ?? false) &&
    (request.attributes === undefined || request.attributes.some((a) => a.toLowerCase().split(':').at(-1)!.startsWith('members')));
  const resources = [];
  for (const g of groups) resources.push(project(await groupRepresentation(ctx, g, { members: withMembers }), GROUP_SCHEMA_ID, request.attributes, request.excludedAttributes));
  return listResponse(total, request.startIndex, resources);
}

export async function getGroup(ctx: ScimContext, id: string): Promise<GroupRecord> {
  return requireGroup(ctx.store, id);
}

export async function createGroup(ctx: ScimContext, body: unknown): Promise<GroupRecord> {
  const input = parseInput(body);
  return directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    await requireUniqueName(dir.store, input.displayName);
    const members = await resolveMembers(dir.store, input.members ?? []);
    const group = await dir.createGroup({ id: randomId(), name: input.displayName, displayName: input.displayName, source: SCIM_SOURCE, externalId: input.externalId ?? undefined });
    await setMembers(dir, group.id, members);
    await ctx.audit.record(dir.store, { actor: ctx.actor, origin: ctx.origin, action: 'group.created', target: { type: 'group', id: group.id }, outcome: 'success', details: { name: group.name, members: members.length, via: 'scim' } });
    return (await dir.store.groups.get(group.id))!;
  });
}

async function writeGroup(ctx: ScimContext, dir: DirectoryWriter, current: GroupRecord, input: z.infer<typeof scimGroupInputSchema>): Promise<GroupRecord> {
  requireOwned(current);
  if (input.displayName !== current.name) await requireUniqueName(dir.store, input.displayName, current.id);
  const before = dir.changes.length;
  await dir.updateGroup(current.id, { name: input.displayName, displayName: input.displayName, externalId: input.externalId ?? undefined });
  await setMembers(dir, current.id, await resolveMembers(dir.store, input.members ?? []));
  if (dir.changes.length > before) {
    await ctx.audit.record(dir.store, { actor: ctx.actor, origin: ctx.origin, action: 'group.updated', target: { type: 'group', id: current.id }, outcome: 'success', details: { changes: dir.changes.length - before, via: 'scim' } });
  }
  return (await dir.store.groups.get(current.id))!;
}

export async function replaceGroup(ctx: ScimContext, id: string, body: unknown): Promise<GroupRecord> {
  const input = parseInput(body);
  return directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    const current = await requireGroup(dir.store, id);
    checkIfMatch(ctx.ifMatch, current.version);
    return writeGroup(ctx, dir, current, input);
  });
}

export async function patchGroup(ctx: ScimContext, id: string, request: PatchRequest): Promise<GroupRecord> {
  return directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    const current = await requireGroup(dir.store, id);
    checkIfMatch(ctx.ifMatch, current.version);
    requireOwned(current);
    const patched = applyPatch(await groupRepresentation({ ...ctx, store: dir.store }, current), request, GROUP_SCHEMA);
    return writeGroup(ctx, dir, current, parseInput(patched));
  });
}

export async function deleteGroup(ctx: ScimContext, id: string): Promise<void> {
  await directoryTransaction(ctx.store, scimOrigin(ctx), async (dir) => {
    const current = await requireGroup(dir.store, id);
    checkIfMatch(ctx.ifMatch, current.version);
    if (current.source !== SCIM_SOURCE) throw scimError('scim.not_owned', undefined, `this group belongs to ${ownerOf(current.source)}; SCIM cannot delete it`, 403);
    await dir.deleteGroup(id);
    await ctx.audit.record(dir.store, { actor: ctx.actor, origin: ctx.origin, action: 'group.deleted', target: { type: 'group', id }, outcome: 'success', details: { name: current.name, via: 'scim' } });
  });
}
