import type { Account, AccountClaims, FindAccount } from 'oidc-provider';
import type { TenantStore } from '../store/tenant-store.js';
import type { UserRecord } from '../store/repositories/user-repository.js';

/**
 * Which claims each scope releases (OIDC Core 5.4), plus `groups` and `roles`. `amr` and `acr`
 * are listed under `openid` so that ID tokens carry them when a sign-in set them.
 */
export const CLAIMS_BY_SCOPE: Record<string, string[]> = {
  openid: ['sub', 'acr', 'amr', 'sid', 'auth_time'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
  groups: ['groups'],
  roles: ['roles'],
};

export const SUPPORTED_SCOPES = ['openid', 'offline_access', ...Object.keys(CLAIMS_BY_SCOPE).filter((s) => s !== 'openid')];

/** The claims a user can release, whatever was asked; oidc-provider filters them by scope and claims. */
export async function userClaims(store: TenantStore, user: UserRecord): Promise<AccountClaims> {
  const groups = await store.groups.effectiveGroupsOfUser(user.id);
  const roles = Array.isArray(user.attributes.roles) ? (user.attributes.roles as string[]) : [];
  return {
    sub: user.id,
    ...(user.displayName ? { name: user.displayName } : {}),
    ...(user.givenName ? { given_name: user.givenName } : {}),
    ...(user.familyName ? { family_name: user.familyName } : {}),
    preferred_username: user.username,
    updated_at: Math.floor(user.updatedAt / 1000),
    ...(user.email ? { email: user.email, email_verified: user.emailVerified } : {}),
    ...(user.phone ? { phone_number: user.phone, phone_number_verified: false } : {}),
    ...(user.address ? { address: user.address } : {}),
    groups: groups.map((g) => g.name),
    roles,
  };
}

/**
 * oidc-provider's account lookup for one tenant. A disabled or deleted user is not found, so
 * their refresh tokens and userinfo calls stop working at once.
 */
export function createFindAccount(store: TenantStore): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await store.users.get(sub);
    if (!user || user.status !== 'active') return undefined;
    return { accountId: user.id, claims: async () => userClaims(store, user) };
  };
}
