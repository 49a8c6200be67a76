import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { mintUserTokens } from '../helpers/user-tokens.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
/** An API that wants revocation to take effect at once: opaque access tokens. */
const VAULT = 'https://api.example.test/vault';
const ORDERS = 'https://api.example.test/orders';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** RFC 7662 introspection and RFC 7009 revocation, for the tenant's own confidential clients. */
describe('introspection and revocation', () => {
  let gh: TestGatehouse;
  let userId: string;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    gh = await startGatehouse();
    await gh.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
    const store = gh.services.store.forTenant('acme');
    await gh.services.resources.upsert(store, { identifier: VAULT, scopes: ['vault:read'], accessTokenFormat: 'opaque', accessTokenTtl: 300 }, OPERATOR);
    await gh.services.resources.upsert(store, { identifier: ORDERS, scopes: ['orders:read'] }, OPERATOR);
    secrets.job = (await gh.services.clients.create(store, { clientId: 'job', resources: [{ resource: VAULT, scopes: ['vault:read'] }, { resource: ORDERS, scopes: ['orders:read'] }] }, OPERATOR)).secret!;
    secrets.vault = (await gh.services.clients.create(store, { clientId: 'vault-api', grantTypes: ['client_credentials'] }, OPERATOR)).secret!;
    secrets.web = (await gh.services.clients.create(store, { clientId: 'web-app', redirectUris: ['https://app.example.test/cb'], resources: [{ resource: VAULT, scopes: ['vault:read'] }] }, OPERATOR)).secret!;
    await gh.services.clients.create(store, { clientId: 'spa', type: 'public', redirectUris: ['https://spa.example.test/cb'] }, OPERATOR);
    userId = (await gh.services.users.create(store, { username: 'dana' }, OPERATOR)).id;
  });
  afterAll(async () => gh?.stop());

  async function post(endpoint: 'introspection' | 'revocation', authorization: string | undefined, params: Record<string, string>) {
    const res = await fetch(`${gh.issuer('acme')}/token/${endpoint}`, {
      method: 'POST',
      headers: { ...(authorization ? { authorization } : {}), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    const text = await res.text();
    // any: a JSON body whose fields the assertions read freely
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
  }
  const introspect = (token: string, as = basic('vault-api', secrets.vault)) => post('introspection', as, { token });

  async function opaqueServiceToken() {
    const res = await fetch(`${gh.issuer('acme')}/token`, {
      method: 'POST',
      headers: { authorization: basic('job', secrets.job), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: VAULT, scope: 'vault:read' }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  it('introspects an opaque access token with its claims, for another client of the tenant (the API)', async () => {
    const token = await opaqueServiceToken();
    expect(token.split('.')).toHaveLength(1);
    const { status, body } = await introspect(token);
    expect(status).toBe(200);
    expect(body).toMatchObject({ active: true, client_id: 'job', aud: VAULT, scope: 'vault:read', tid: 'acme', iss: gh.issuer('acme'), token_type: 'Bearer' });
    expect(body.exp - body.iat).toBe(300);
  });

  it('revokes an opaque access token at once: it no longer introspects as active', async () => {
    const token = await opaqueServiceToken();
    expect((await post('revocation', basic('job', secrets.job), { token })).status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('revoking a refresh token ends its grant: the grant\'s access tokens stop introspecting as active', async () => {
    const { accessToken, refreshToken } = await mintUserTokens(gh, { tenantId: 'acme', accountId: userId, clientId: 'web-app', resource: VAULT, scope: 'vault:read' });
    expect((await introspect(accessToken)).body).toMatchObject({ active: true, sub: userId, client_id: 'web-app' });
    expect((await introspect(refreshToken, basic('web-app', secrets.web))).body).toMatchObject({ active: true, sub: userId });

    const revoked = await post('revocation', basic('web-app', secrets.web), { token: refreshToken, token_type_hint: 'refresh_token' });
    expect(revoked.status).toBe(200);
    expect((await introspect(refreshToken, basic('web-app', secrets.web))).body).toEqual({ active: false });
    expect((await introspect(accessToken)).body).toEqual({ active: false });
  });

  it('lets only the client a token was issued to revoke it', async () => {
    const token = await opaqueServiceToken();
    expect((await post('revocation', basic('vault-api', secrets.vault), { token })).status).toBe(200); // RFC 7009 section 2.2: no oracle
    expect((await introspect(token)).body).toMatchObject({ active: true });
  });

  it('refuses unauthenticated callers and public clients', async () => {
    const token = await opaqueServiceToken();
    const anonymous = await post('introspection', undefined, { token });
    expect(anonymous.status).toBe(400);
    expect(anonymous.body.error).toMatch(/invalid_request|invalid_client/);
    const wrong = await introspect(token, basic('vault-api', 'not-the-secret'));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client' });
    const publicClient = await post('introspection', undefined, { token, client_id: 'spa' });
    expect(publicClient.body).toEqual({ active: false });
  });

  it('says that a JWT access token is verified offline, not introspected', async () => {
    const res = await fetch(`${gh.issuer('acme')}/token`, {
      method: 'POST',
      headers: { authorization: basic('job', secrets.job), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: ORDERS, scope: 'orders:read' }),
    });
    const jwt = ((await res.json()) as { access_token: string }).access_token;
    const { status, body } = await introspect(jwt);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'unsupported_token_type' });
  });

  it('audits revocations, without token values', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const events = await gh.services.store.forTenant('acme').audit.list({ limit: 200 });
    expect(events.find((e) => e.action === 'token.revoked')).toMatchObject({ actorId: 'job', targetId: 'ClientCredentials' });
    expect(events.find((e) => e.action === 'grant.revoked')).toMatchObject({ actorId: 'web-app', targetType: 'grant', clientIp: expect.any(String) });
  });
});
