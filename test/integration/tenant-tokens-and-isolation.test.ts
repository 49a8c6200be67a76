import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import type { Services } from '../../src/services.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const API = 'https://api.example.test/orders';

async function addTenantWithService(services: Services, tenantId: string) {
  await services.tenants.create({ id: tenantId, displayName: `Tenant ${tenantId}` }, OPERATOR);
  const store = services.store.forTenant(tenantId);
  await services.resources.upsert(store, { identifier: API, scopes: ['orders:read', 'orders:write'] }, OPERATOR);
  const { secret } = await services.clients.create(store, { clientId: 'orders-job', grantTypes: ['client_credentials'], resources: [{ resource: API, scopes: ['orders:read'] }] }, OPERATOR);
  return secret!;
}

async function discover(gh: TestGatehouse, tenantId: string, clientId: string, secret: string) {
  return oidc.discovery(new URL(gh.issuer(tenantId)), clientId, secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
}

describe('tenants, their tokens and their isolation (real server, openid-client as the app)', () => {
  let gh: TestGatehouse;
  let secretA: string;
  let secretB: string;

  beforeAll(async () => {
    gh = await startGatehouse();
    secretA = await addTenantWithService(gh.services, 'alpha');
    secretB = await addTenantWithService(gh.services, 'beta');
  });
  afterAll(async () => gh?.stop());

  it('publishes discovery per tenant, with every endpoint under the tenant prefix', async () => {
    for (const tenant of ['alpha', 'beta']) {
      const config = await discover(gh, tenant, 'orders-job', tenant === 'alpha' ? secretA : secretB);
      const meta = config.serverMetadata();
      expect(meta.issuer).toBe(gh.issuer(tenant));
      for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint', 'end_session_endpoint'] as const) {
        expect(meta[endpoint]).toMatch(new RegExp(`^${gh.issuer(tenant)}/`));
      }
    }
  });

  it('issues a client-credentials JWT that verifies against its own tenant\'s JWKS and issuer', async () => {
    const config = await discover(gh, 'alpha', 'orders-job', secretA);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read', resource: API });
    const jwks = createRemoteJWKSet(new URL(`${gh.issuer('alpha')}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: gh.issuer('alpha'), audience: API, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ tid: 'alpha', client_id: 'orders-job', sub: 'orders-job', scope: 'orders:read', aud: API });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('refuses tenant A\'s token against tenant B\'s JWKS and issuer', async () => {
    const tokens = await oidc.clientCredentialsGrant(await discover(gh, 'alpha', 'orders-job', secretA), { scope: 'orders:read', resource: API });
    const betaJwks = createRemoteJWKSet(new URL(`${gh.issuer('beta')}/jwks`));
    await expect(jwtVerify(tokens.access_token, betaJwks, { issuer: gh.issuer('beta'), audience: API })).rejects.toThrow();
    const alphaJwks = createRemoteJWKSet(new URL(`${gh.issuer('alpha')}/jwks`));
    await expect(jwtVerify(tokens.access_token, alphaJwks, { issuer: gh.issuer('beta'), audience: API })).rejects.toThrow(/iss/);
  });

  it('does not accept tenant A\'s client credentials at tenant B', async () => {
    const res = await fetch(`${gh.issuer('beta')}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`orders-job:${secretA}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('uses the only API a service was granted when it names none, and refuses scopes it was not granted', async () => {
    const config = await discover(gh, 'alpha', 'orders-job', secretA);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${gh.issuer('alpha')}/jwks`)), { audience: API });
    expect(payload.aud).toBe(API);
    await expect(oidc.clientCredentialsGrant(config, { scope: 'orders:write', resource: API })).rejects.toMatchObject({ error: 'invalid_scope' });
    await expect(oidc.clientCredentialsGrant(config, { resource: 'https://api.example.test/unknown' })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('answers an unknown tenant with 404, as JSON for APIs and as a page for browsers', async () => {
    const api = await fetch(`${gh.url}/t/nowhere/.well-known/openid-configuration`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: 'tenant.not_found', request_id: expect.any(String) });
    const page = await fetch(`${gh.url}/t/nowhere/auth`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('Organisation not found');
    expect((await fetch(`${gh.url}/t/Not..Valid/jwks`)).status).toBe(404);
  });

  it('answers a suspended tenant with 403 from the next request on, and serves it again once resumed', async () => {
    await gh.services.tenants.suspend('beta', OPERATOR);
    const api = await fetch(`${gh.issuer('beta')}/jwks`);
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ error: 'tenant.suspended' });
    const page = await fetch(`${gh.issuer('beta')}/auth`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('This organisation is suspended');
    await gh.services.tenants.resume('beta', OPERATOR);
    expect((await fetch(`${gh.issuer('beta')}/jwks`)).status).toBe(200);
  });

  it('serves an app created or deleted after start from the next request on', async () => {
    const store = gh.services.store.forTenant('alpha');
    const { secret } = await gh.services.clients.create(store, { clientId: 'late-app', grantTypes: ['client_credentials'], resources: [{ resource: API, scopes: ['orders:write'] }] }, OPERATOR);
    const config = await discover(gh, 'alpha', 'late-app', secret!);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders:write', resource: API });
    expect(tokens.scope).toBe('orders:write');
    await gh.services.clients.delete(store, 'late-app', OPERATOR);
    const refused = await oidc.clientCredentialsGrant(config, { resource: API }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
    expect((refused as oidc.WWWAuthenticateChallengeError).cause[0]!.parameters.error).toBe('invalid_client');
  });

  it('publishes a rotated key before it signs, keeps the old one published, and signs with the new one once due', async () => {
    const store = gh.services.store.forTenant('alpha');
    const jwksUrl = `${gh.issuer('alpha')}/jwks`;
    const before = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string; key_ops?: string[] }> };
    const { added } = await gh.services.keys.rotate(store, { maxTokenLifetimeSeconds: 700 });
    const after = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string; key_ops?: string[] }> };
    for (const key of added) expect(after.keys.find((k) => k.kid === key.kid)).toMatchObject({ key_ops: ['verify'] });
    for (const key of before.keys) expect(after.keys.map((k) => k.kid)).toContain(key.kid);
    const config = await discover(gh, 'alpha', 'orders-job', secretA);
    const signedBefore = (await oidc.clientCredentialsGrant(config, { resource: API })).access_token;
    expect(before.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(signedBefore).kid);

    const immediate = await gh.services.keys.rotate(store, { maxTokenLifetimeSeconds: 700, immediate: true });
    const signedAfter = (await oidc.clientCredentialsGrant(config, { resource: API })).access_token;
    const es256 = immediate.added.find((k) => k.alg === 'ES256')!;
    expect(decodeProtectedHeader(signedAfter).kid).toBe(es256.kid);
    // The token signed before the rotation still verifies: its key stays published.
    await jwtVerify(signedBefore, createRemoteJWKSet(new URL(jwksUrl)), { audience: API });
  });

  it('serves a tenant whose id equals an endpoint name', async () => {
    const secret = await addTenantWithService(gh.services, 'token');
    const meta = (await discover(gh, 'token', 'orders-job', secret)).serverMetadata();
    expect(meta.token_endpoint).toBe(`${gh.issuer('token')}/token`);
  });

  it('records token issuance and refusals in the tenant\'s audit log', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const events = await gh.services.store.forTenant('alpha').audit.list({ limit: 200 });
    expect(events.find((e) => e.action === 'token.issued')).toMatchObject({ outcome: 'success', actorId: 'orders-job', clientIp: expect.any(String) });
    const refusals = events.filter((e) => e.action === 'token.refused');
    expect(refusals.map((e) => e.reason)).toEqual(expect.arrayContaining(['invalid_scope', 'invalid_target', 'invalid_client']));
    expect(refusals.every((e) => e.outcome === 'failure')).toBe(true);
    const json = JSON.stringify(events);
    expect(json).not.toContain(secretA);
  });

  it('reports liveness and readiness', async () => {
    expect(await (await fetch(`${gh.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${gh.url}/readyz`)).json()).toEqual({ status: 'ready', store: 'sqlite' });
  });

  it('sends security headers and echoes a well-formed request id', async () => {
    const res = await fetch(`${gh.issuer('alpha')}/jwks`, { headers: { 'x-request-id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const bad = await fetch(`${gh.url}/healthz`, { headers: { 'x-request-id': 'bad id<script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('the bounded tenant pool', () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startGatehouse({ overrides: { tenantPool: { maxLiveTenants: 3 } } });
    for (let i = 0; i < 6; i++) await gh.services.tenants.create({ id: `t${i}`, displayName: `T${i}` }, OPERATOR);
  });
  afterAll(async () => gh?.stop());

  it('keeps at most maxLiveTenants providers and rebuilds evicted tenants on demand', async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${gh.issuer(`t${i}`)}/.well-known/openid-configuration`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { issuer: string }).issuer).toBe(gh.issuer(`t${i}`));
      }
    }
    expect(gh.server.pool.size).toBeLessThanOrEqual(3);
    expect(gh.server.pool.buildCount).toBe(12);
  });
});
