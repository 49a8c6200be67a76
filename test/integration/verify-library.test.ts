import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import * as oidc from 'openid-client';
import { generateKeyPair } from 'jose';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/free-port.js';
import { accessTokenClaims, signAccessToken, tenantSigningKey } from '../helpers/tenant-keys.js';
import { createVerifier, expressBearer, koaBearer, verify, VerifyError, JWKS_REFETCH_COOLDOWN_MS, type VerifiedToken } from '../../src/verify/index.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const ORDERS = 'https://api.example.test/orders';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('gatehouse/verify: offline verification of Gatehouse access tokens', () => {
  let gh: TestGatehouse;
  let secret: string;
  let token: string;
  let jwksProxy: Server;
  let proxyUrl: string;
  let jwksFetches = 0;

  beforeAll(async () => {
    gh = await startGatehouse();
    await gh.services.tenants.create({ id: 'alpha', displayName: 'Alpha' }, OPERATOR);
    const store = gh.services.store.forTenant('alpha');
    await gh.services.resources.upsert(store, { identifier: ORDERS, scopes: ['orders:read', 'orders:write'] }, OPERATOR);
    secret = (await gh.services.clients.create(store, { clientId: 'reader', resources: [{ resource: ORDERS, scopes: ['orders:read'] }] }, OPERATOR)).secret!;
    token = await clientToken();
    // The tenant's JWKS behind a counter: how often does the verifier fetch it?
    jwksProxy = createServer(async (_req, res) => {
      jwksFetches++;
      const upstream = await fetch(`${gh.issuer('alpha')}/jwks`);
      res.setHeader('content-type', 'application/json');
      res.end(await upstream.text());
    });
    proxyUrl = await listen(jwksProxy);
  });
  afterAll(async () => {
    jwksProxy?.close();
    await gh?.stop();
  });

  async function clientToken(scope = 'orders:read') {
    const config = await oidc.discovery(new URL(gh.issuer('alpha')), 'reader', secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
    return (await oidc.clientCredentialsGrant(config, { scope, resource: ORDERS })).access_token;
  }

  it('verifies a token: signature, typ, iss, aud, exp, tid and scopes, and returns its claims', async () => {
    const result = await verify(token, { issuer: gh.issuer('alpha'), audience: ORDERS, requiredScopes: ['orders:read'] });
    expect(result).toMatchObject({ subject: 'reader', clientId: 'reader', tenant: 'alpha', scopes: ['orders:read'] });
    expect(result.claims).toMatchObject({ iss: gh.issuer('alpha'), aud: ORDERS, tid: 'alpha', jti: expect.any(String) });
  });

  it('answers insufficient_scope (403) with the scopes needed when a required scope is missing', async () => {
    const error = await verify(token, { issuer: gh.issuer('alpha'), audience: ORDERS, requiredScopes: ['orders:write'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ code: 'insufficient_scope', status: 403, scope: 'orders:write' });
  });

  it('checks `tid` against the tenant of the issuer, or the tenant given', async () => {
    await expect(verify(token, { issuer: gh.issuer('alpha'), audience: ORDERS, tenant: 'beta' })).rejects.toMatchObject({ code: 'invalid_token', message: expect.stringContaining('another tenant') });
  });

  it('tolerates a small clock skew on exp, and no more', async () => {
    const { key, kid } = await tenantSigningKey(gh, 'alpha');
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await signAccessToken(accessTokenClaims(gh, 'alpha', ORDERS, { iat: now - 60, exp: now - 3 }), key, { alg: 'ES256', kid });
    await expect(verify(justExpired, { issuer: gh.issuer('alpha'), audience: ORDERS })).resolves.toMatchObject({ tenant: 'alpha' });
    const later = new Date((now + 10) * 1000);
    await expect(createVerifier({ issuer: gh.issuer('alpha'), audience: ORDERS, currentDate: later })(justExpired)).rejects.toMatchObject({ code: 'invalid_token', message: 'the access token has expired' });
  });

  it('fetches the JWKS once and keeps it; an unknown kid refetches it at most once per 30 s', async () => {
    const options = { issuer: gh.issuer('alpha'), audience: ORDERS, jwksUri: `${proxyUrl}/jwks` };
    for (let i = 0; i < 20; i++) await verify(token, options);
    expect(jwksFetches).toBe(1);

    const stranger = await generateKeyPair('ES256');
    const unknownKid = await signAccessToken(accessTokenClaims(gh, 'alpha', ORDERS), stranger.privateKey, { alg: 'ES256', kid: 'made-up' });
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      jest.setSystemTime(Date.now() + JWKS_REFETCH_COOLDOWN_MS + 1000);
      for (let i = 0; i < 10; i++) await expect(verify(unknownKid, options)).rejects.toMatchObject({ code: 'invalid_token' });
      expect(jwksFetches).toBe(2); // one refetch for ten unknown-kid tokens
      jest.setSystemTime(Date.now() + JWKS_REFETCH_COOLDOWN_MS + 1000);
      await expect(verify(unknownKid, options)).rejects.toMatchObject({ code: 'invalid_token' });
      expect(jwksFetches).toBe(3); // the cooldown has passed: one more
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports an unreachable JWKS as unavailable (503), not as the caller\'s fault', async () => {
    const port = await freePort();
    await expect(verify(token, { issuer: gh.issuer('alpha'), audience: ORDERS, jwksUri: `http://127.0.0.1:${port}/jwks` })).rejects.toMatchObject({ code: 'unavailable', status: 503 });
  });

  it('refuses to be configured with `none` or an HMAC algorithm', () => {
    expect(() => createVerifier({ issuer: gh.issuer('alpha'), audience: ORDERS, algorithms: ['HS256'] })).toThrow(/not allowed/);
    expect(() => createVerifier({ issuer: gh.issuer('alpha'), audience: ORDERS, algorithms: ['none'] })).toThrow(/not allowed/);
  });

  describe('Koa middleware', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      const app = new Koa();
      app.use(koaBearer({ issuer: gh.issuer('alpha'), audience: ORDERS, requiredScopes: ['orders:read'], realm: 'orders' }));
      app.use((ctx) => {
        ctx.body = { subject: (ctx.state.auth as VerifiedToken).subject };
      });
      server = createServer(app.callback());
      url = await listen(server);
    });
    afterAll(() => {
      server?.close();
    });

    it('lets a valid token through, with the verified token in ctx.state.auth', async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ subject: 'reader' });
    });

    it('answers RFC 6750 challenges: no token, invalid token, insufficient scope, malformed header', async () => {
      await expectChallenges(url, gh, secret);
    });
  });

  describe('Express (connect-style) middleware, on a plain Node server', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      const guard = expressBearer({ issuer: gh.issuer('alpha'), audience: ORDERS, requiredScopes: ['orders:read'], realm: 'orders' });
      server = createServer((req, res) => {
        guard(req as typeof req & { auth?: VerifiedToken }, res, (error?: unknown) => {
          res.statusCode = error ? 500 : 200;
          res.end(JSON.stringify({ subject: (req as typeof req & { auth?: VerifiedToken }).auth?.subject }));
        });
      });
      url = await listen(server);
    });
    afterAll(() => {
      server?.close();
    });

    it('lets a valid token through, with the verified token in req.auth', async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ subject: 'reader' });
    });

    it('answers RFC 6750 challenges: no token, invalid token, insufficient scope, malformed header', async () => {
      await expectChallenges(url, gh, secret);
    });
  });

  it('is importable as `gatehouse/verify` by a service: the example orders API accepts and refuses tokens', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--conditions=gatehouse-source', '--import', 'tsx', 'examples/orders-api/server.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: String(port), GATEHOUSE_ISSUER: gh.issuer('alpha'), ORDERS_API: ORDERS, READ_SCOPE: 'orders:read', WRITE_SCOPE: 'orders:write' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      const deadline = Date.now() + 20000;
      while (!output.includes('orders API on')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`example did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const base = `http://127.0.0.1:${port}`;
      const read = await fetch(`${base}/orders`, { headers: { authorization: `Bearer ${token}` } });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ caller: { subject: 'reader', tenant: 'alpha' } });
      const write = await fetch(`${base}/orders`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(write.status).toBe(403);
      expect(write.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
      expect((await fetch(`${base}/orders`)).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

/** The four RFC 6750 refusals a protected resource gives, checked on one endpoint. */
async function expectChallenges(url: string, gh: TestGatehouse, secret: string) {
  const none = await fetch(url);
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toBe('Bearer realm="orders"'); // section 3.1: no error code without a token

  const forged = await fetch(url, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } });
  expect(forged.status).toBe(401);
  expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer realm="orders", error="invalid_token", error_description="[^"]+"$/);
  expect(await forged.json()).toMatchObject({ error: 'invalid_token' });

  const config = await oidc.discovery(new URL(gh.issuer('alpha')), 'reader', secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
  const noScope = (await oidc.clientCredentialsGrant(config, { resource: ORDERS, scope: '' })).access_token;
  const weak = await fetch(url, { headers: { authorization: `Bearer ${noScope}` } });
  expect(weak.status).toBe(403);
  expect(weak.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  expect(weak.headers.get('www-authenticate')).toContain('scope="orders:read"');

  const basic = await fetch(url, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  expect(basic.status).toBe(400);
  expect(basic.headers.get('www-authenticate')).toContain('error="invalid_request"');
}
