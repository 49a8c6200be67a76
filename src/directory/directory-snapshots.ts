import type { UserRecord } from '../store/repositories/user-repository.js';
import type { GroupRecord } from '../store/repositories/group-repository.js';

/**
 * What the change feed and webhooks publish about a user or a group: the directory's own
 * attributes, never a secret (no password hash). Memberships are published as their own
 * changes (`member_added`, `member_removed`), so a group's snapshot does not list its members.
 */
export interface UserSnapshot {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  phone: string | null;
  address: Record<string, unknown> | null;
  status: string;
  source: string;
  externalId: string | null;
  attributes: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface GroupSnapshot {
  id: string;
  name: string;
  displayName: string | null;
  source: string;
  externalId: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function userSnapshot(u: UserRecord): UserSnapshot {
  return {
    id: u.id,
    username: u.username,
    email: u.email ?? null,
    emailVerified: u.emailVerified,
    givenName: u.givenName ?? null,
    familyName: u.familyName ?? null,
    displayName: u.displayName ?? null,
    phone: u.phone ?? null,
    address: (u.address as Record<string, unknown> | undefined) ?? null,
    status: u.status,
    source: u.source,
    externalId: u.externalId ?? null,
    attributes: u.attributes,
    version: u.version,
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

export function groupSnapshot(g: GroupRecord): GroupSnapshot {
  return {
    id: g.id,
    name: g.name,
    displayName: g.displayName ?? null,
    source: g.source,
    externalId: g.externalId ?? null,
    version: g.version,
    createdAt: iso(g.createdAt),
    updatedAt: iso(g.updatedAt),
  };
}

/** JSON with object keys sorted, so that equal values compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
