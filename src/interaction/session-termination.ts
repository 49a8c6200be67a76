import type { TenantRuntime } from '../tenants/tenant-pool.js';

interface StoredSession {
  id: string;
  payload: Record<string, unknown>;
}

type Authorizations = Record<string, { sid?: string }>;

/**
 * Ends one single sign-on session the way oidc-provider's own logout does: every app of the
 * session that registered a back-channel logout URI gets a logout token (OIDC Back-Channel
 * Logout 1.0), then the session is gone. Used by the account page ("sign out this session")
 * and by a SAML partner's single logout.
 */
export async function endSession(runtime: TenantRuntime, accountId: string, session: StoredSession): Promise<void> {
  const authorizations = (session.payload.authorizations ?? {}) as Authorizations;
  await Promise.allSettled(
    Object.entries(authorizations).map(async ([clientId, { sid }]) => {
      const client = await runtime.provider.Client.find(clientId);
      // oidc-provider's Client.backchannelLogout (what end_session itself calls); untyped in @types.
      const logout = (client as unknown as { backchannelLogout?: (sub: string, sid: string) => Promise<void> } | undefined)?.backchannelLogout;
      if (client?.backchannelLogoutUri && sid && logout) await logout.call(client, accountId, sid);
    }),
  );
  await runtime.store.oidc.destroy('Session', session.id);
}

/** Ends every session of an account in the tenant; returns how many there were. */
export async function endAllSessions(runtime: TenantRuntime, accountId: string): Promise<number> {
  const sessions = await runtime.store.oidc.listByAccount('Session', accountId);
  for (const session of sessions) await endSession(runtime, accountId, session);
  return sessions.length;
}
