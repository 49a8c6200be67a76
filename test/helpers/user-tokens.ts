import type Provider from 'oidc-provider';
import type { ResourceServer } from 'oidc-provider';
import type { TestGatehouse } from './gatehouse.js';

/**
 * Tokens of a signed-in user, minted through the tenant's real oidc-provider models (Grant,
 * AccessToken, RefreshToken), exactly as the authorization-code flow would save them. The browser
 * sign-in flow is built separately; once it exists this helper can be swapped for a real sign-in
 * without changing the tests that use it.
 */
export interface UserTokenRequest {
  tenantId: string;
  /** The user's id (`sub`). */
  accountId: string;
  /** The app the user signed in to (a client of the tenant). */
  clientId: string;
  /** The API the token is for (resource indicator); its format and lifetime apply. */
  resource: string;
  /** API scopes, space separated. */
  scope: string;
  /** A shorter lifetime than the API's, in seconds. */
  expiresIn?: number;
}

export interface UserTokens {
  accessToken: string;
  refreshToken: string;
  grantId: string;
}

async function providerOf(gh: TestGatehouse, tenantId: string): Promise<Provider> {
  const tenant = await gh.services.store.tenants.get(tenantId);
  if (!tenant) throw new Error(`no tenant ${tenantId}`);
  return (await gh.server.pool.runtimeFor(tenant)).provider;
}

/** A user's grant with an access token for `resource` and a refresh token, as after a sign-in with offline_access. */
export async function mintUserTokens(gh: TestGatehouse, request: UserTokenRequest): Promise<UserTokens> {
  const provider = await providerOf(gh, request.tenantId);
  const client = await provider.Client.find(request.clientId);
  if (!client) throw new Error(`no client ${request.clientId} in ${request.tenantId}`);
  const api = await gh.services.store.forTenant(request.tenantId).resourceServers.get(request.resource);
  if (!api) throw new Error(`no API ${request.resource} in ${request.tenantId}`);

  const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(request.resource, request.scope);
  const grantId = await grant.save();

  // What features.resourceIndicators.getResourceServerInfo answers for this app and API.
  const info = {
    scope: request.scope,
    audience: request.resource,
    accessTokenTTL: api.settings.accessTokenTtl,
    accessTokenFormat: api.settings.accessTokenFormat,
    ...(api.settings.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: gh.services.config.keys.algorithms[0]! } } } : {}),
  } as ResourceServer;
  const accessToken = await new provider.AccessToken({
    accountId: request.accountId,
    client,
    grantId,
    gty: 'authorization_code',
    scope: request.scope,
    resourceServer: new provider.ResourceServer(request.resource, info),
    ...(request.expiresIn ? { expiresIn: request.expiresIn } : {}),
  }).save();
  const refreshToken = await new provider.RefreshToken({
    accountId: request.accountId,
    client,
    grantId,
    gty: 'authorization_code',
    scope: 'openid offline_access',
    resource: request.resource,
  }).save();
  return { accessToken, refreshToken, grantId };
}

/** Just the access token. */
export async function mintUserAccessToken(gh: TestGatehouse, request: UserTokenRequest): Promise<string> {
  return (await mintUserTokens(gh, request)).accessToken;
}
