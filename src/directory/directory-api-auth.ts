import type { Context } from 'koa';
import type { Services } from '../services.js';
import { bearerTokenOf, directoryAudience, verifyTenantAccessToken, requireScope, type VerifiedAccessToken } from '../http/tenant-access-token.js';
import type { Actor } from '../audit/audit-log.js';

/**
 * Scopes of the directory API (audience `<issuer>/directory`):
 * - `scim:read`: read users, groups and the SCIM discovery endpoints;
 * - `scim:write`: create, replace, patch and delete through SCIM (implies `scim:read`);
 * - `directory:changes`: read the change feed.
 */
export const DIRECTORY_SCOPES = { scimRead: 'scim:read', scimWrite: 'scim:write', changes: 'directory:changes' } as const;

/** The issuer of a tenant, as its tokens carry it. */
export const tenantIssuer = (services: Services, tenantId: string) => `${services.config.server.publicUrl}/t/${tenantId}`;

/** Authenticates a request to the tenant's directory API and checks that it carries one of `scopes`. */
export async function authenticateDirectoryRequest(ctx: Context, services: Services, scopes: string[]): Promise<VerifiedAccessToken> {
  const tenantId = ctx.state.tenant.id;
  const issuer = tenantIssuer(services, tenantId);
  const token = await verifyTenantAccessToken(bearerTokenOf(ctx.get('authorization') || undefined), {
    store: services.store.forTenant(tenantId),
    tenantId,
    issuer,
    audience: directoryAudience(issuer),
    algorithms: services.config.keys.algorithms,
    clock: services.clock,
    clockToleranceSeconds: services.config.tokens.clockToleranceSeconds,
  });
  requireScope(token, scopes);
  return token;
}

/** The app behind a token, as the actor of the changes it makes. */
export const tokenActor = (token: VerifiedAccessToken): Actor => ({ type: 'client', id: token.clientId ?? token.subject });
