import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { runCli } from '../helpers/cli.js';

const OPERATOR = { type: 'operator' as const, id: 'test' };
const API = 'https://api.example.test/reports';
const OTHER_API = 'https://api.example.test/payroll';

type PublicJwk = JWK & { kty: string };

async function keyPair(kid: string): Promise<{ privateKey: CryptoKey; jwk: PublicJwk }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kty: 'EC', kid, alg: 'ES256', use: 'sig' } };
}

/**
 * Client credentials (RFC 6749 section 4.4) with each way a confidential client authenticates:
 * client_secret_basic, client_secret_post (section 2.3.1) and private_key_jwt (RFC 7523, OIDC
 * Core section 9) with keys registered inline or fetched from the app's jwks_uri.
 */
describe('client credentials: client authentication and grants', () => {
  let gh: TestGatehouse;
  let jwksServer: Server;
  let jwksUrl: string;
  let jwksFetches = 0;
  let servedKeys: JWK[] = [];
  const secrets: Record<string, string> = {};
  let inlineKey: { privateKey: CryptoKey; jwk: PublicJwk };
  let remoteKey: { privateKey: CryptoKey; jwk: PublicJwk };

  beforeAll(async () => {
    // The app's own JWKS, on loopback: allowed by the development option below, and only by it.
    jwksServer = createServer((_req, res) => {
      jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: servedKeys }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;

    gh = await startGatehouse({ overrides: { clients: { allowInsecureLoopbackJwksUri: true } } });
    await gh.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
    const store = gh.services.store.forTenant('acme');
    await gh.services.resources.upsert(store, { identifier: API, scopes: ['reports:read', 'reports:write'] }, OPERATOR);
    await gh.services.resources.upsert(store, { identifier: OTHER_API, scopes: ['payroll:read'] }, OPERATOR);
    const grant = [{ resource: API, scopes: ['reports:read'] }];
    secrets.basic = (await gh.services.clients.create(store, { clientId: 'basic-job', resources: grant }, OPERATOR)).secret!;
    secrets.post = (await gh.services.clients.create(store, { clientId: 'post-job', tokenEndpointAuthMethod: 'client_secret_post', resources: grant }, OPERATOR)).secret!;
    inlineKey = await keyPair('inline-1');
    await gh.services.clients.create(store, { clientId: 'jwt-inline', jwks: { keys: [inlineKey.jwk] }, resources: grant }, OPERATOR);
    remoteKey = await keyPair('remote-1');
    servedKeys = [remoteKey.jwk];
    await gh.services.clients.create(store, { clientId: 'jwt-remote', jwksUri: jwksUrl, resources: grant }, OPERATOR);
  });
  afterAll(async () => {
    jwksServer?.close();
    await gh?.stop();
  });

  const configFor = (clientId: string, auth: oidc.ClientAuth) =>
    oidc.discovery(new URL(gh.issuer('acme')), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });

  async function expectValidToken(accessToken: string, clientId: string) {
    const { payload } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(`${gh.issuer('acme')}/jwks`)), { issuer: gh.issuer('acme'), audience: API, typ: 'at+jwt' });
    expect(payload).toMatchObject({ client_id: clientId, sub: clientId, tid: 'acme', scope: 'reports:read' });
  }

  it('authenticates with client_secret_basic', async () => {
    const tokens = await oidc.clientCredentialsGrant(await configFor('basic-job', oidc.ClientSecretBasic(secrets.basic)), { resource: API, scope: 'reports:read' });
    await expectValidToken(tokens.access_token, 'basic-job');
  });

  it('authenticates with client_secret_post', async () => {
    const tokens = await oidc.clientCredentialsGrant(await configFor('post-job', oidc.ClientSecretPost(secrets.post)), { resource: API, scope: 'reports:read' });
    await expectValidToken(tokens.access_token, 'post-job');
  });

  it('refuses a wrong secret', async () => {
    const wrongSecret = await oidc.clientCredentialsGrant(await configFor('basic-job', oidc.ClientSecretBasic(`${secrets.basic}x`)), { resource: API }).catch((e: unknown) => e);
    expect(wrongSecret).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
  });

  it('authenticates with private_key_jwt against keys registered with the app', async () => {
    const tokens = await oidc.clientCredentialsGrant(await configFor('jwt-inline', oidc.PrivateKeyJwt({ key: inlineKey.privateKey, kid: 'inline-1' })), { resource: API, scope: 'reports:read' });
    await expectValidToken(tokens.access_token, 'jwt-inline');
    const stranger = await keyPair('inline-1');
    const refused = await oidc.clientCredentialsGrant(await configFor('jwt-inline', oidc.PrivateKeyJwt({ key: stranger.privateKey, kid: 'inline-1' })), { resource: API }).catch((e: unknown) => e);
    expect((refused as oidc.ResponseBodyError | oidc.WWWAuthenticateChallengeError).cause).toBeDefined();
    expect(JSON.stringify((refused as { cause: unknown }).cause)).toContain('invalid_client');
  });

  it('authenticates with private_key_jwt against keys fetched from the app\'s jwks_uri, and caches them', async () => {
    const config = await configFor('jwt-remote', oidc.PrivateKeyJwt({ key: remoteKey.privateKey, kid: 'remote-1' }));
    for (let i = 0; i < 3; i++) {
      const tokens = await oidc.clientCredentialsGrant(config, { resource: API, scope: 'reports:read' });
      await expectValidToken(tokens.access_token, 'jwt-remote');
    }
    expect(jwksFetches).toBe(1);
  });

  it('refuses a resource or a scope the client was not granted', async () => {
    const config = await configFor('basic-job', oidc.ClientSecretBasic(secrets.basic));
    await expect(oidc.clientCredentialsGrant(config, { resource: OTHER_API })).rejects.toMatchObject({ error: 'invalid_target' });
    await expect(oidc.clientCredentialsGrant(config, { resource: API, scope: 'reports:write' })).rejects.toMatchObject({ error: 'invalid_scope' });
    await expect(oidc.clientCredentialsGrant(config, { resource: API, scope: 'payroll:read' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('registers a loopback jwks_uri only with the development option, and a non-https one never', async () => {
    const store = gh.services.store.forTenant('acme');
    await expect(gh.services.clients.create(store, { clientId: 'plain-http', jwksUri: 'http://keys.example.test/jwks', resources: [] }, OPERATOR)).rejects.toMatchObject({
      code: 'client.invalid',
      message: expect.stringContaining('must use https'),
    });
  });
});

describe('client credentials without the development option', () => {
  let gh: TestGatehouse;
  beforeAll(async () => {
    gh = await startGatehouse();
    await gh.services.tenants.create({ id: 'acme', displayName: 'Acme' }, OPERATOR);
  });
  afterAll(async () => gh?.stop());

  it('refuses to register a jwks_uri on a loopback host', async () => {
    const store = gh.services.store.forTenant('acme');
    for (const jwksUri of ['http://127.0.0.1:9/jwks', 'https://localhost/jwks', 'http://[::1]/jwks']) {
      await expect(gh.services.clients.create(store, { clientId: 'loopback', jwksUri }, OPERATOR)).rejects.toMatchObject({
        code: 'client.invalid',
        message: expect.stringContaining('loopback host is refused'),
      });
    }
  });
});

/**
 * In a real Node process oidc-provider guards its outgoing requests against special-use
 * addresses (SSRF); under jest's module sandbox that guard cannot be set up (it says so), so the
 * loopback opt-in is proven here against a separate server process.
 */
describe('private_key_jwt with a loopback jwks_uri, in a server process', () => {
  let dir: string;
  let jwksServer: Server;
  let jwksFetches = 0;
  let server: ServerProcess | undefined;
  let key: { privateKey: CryptoKey; jwk: PublicJwk };

  beforeAll(async () => {
    key = await keyPair('proc-1');
    jwksServer = createServer((_req, res) => {
      jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [key.jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(path.join(tmpdir(), 'gh-jwks-'));
  });
  afterAll(async () => {
    await server?.stop();
    jwksServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches the app\'s keys from loopback past the SSRF guard when (and only when) the development option is on', async () => {
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    const file = path.join(dir, 'gatehouse.yaml');
    writeFileSync(
      file,
      [
        'clients: { allowInsecureLoopbackJwksUri: true }',
        'tenants:',
        '  - id: acme',
        '    displayName: Acme',
        `    resources: [{ identifier: "${API}", scopes: [reports:read] }]`,
        `    clients: [{ clientId: jwt-remote, jwksUri: "${jwksUri}", resources: [{ resource: "${API}", scopes: [reports:read] }] }]`,
      ].join('\n'),
    );
    server = await startServerProcess({ DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'warn' }, ['--config', file]);
    expect(server.output()).toContain('allowInsecureLoopbackJwksUri');
    const config = await oidc.discovery(new URL(`${server.url}/t/acme`), 'jwt-remote', undefined, oidc.PrivateKeyJwt({ key: key.privateKey, kid: 'proc-1' }), {
      execute: [oidc.allowInsecureRequests],
    });
    for (let i = 0; i < 2; i++) {
      const tokens = await oidc.clientCredentialsGrant(config, { resource: API, scope: 'reports:read' });
      expect(tokens.access_token.split('.')).toHaveLength(3);
    }
    expect(jwksFetches).toBe(1);
    await server.stop();
    server = undefined;

    // The same configuration without the option does not start: the loopback jwks_uri is named.
    writeFileSync(file, readFileSync(file, 'utf8').replace('allowInsecureLoopbackJwksUri: true', 'allowInsecureLoopbackJwksUri: false'));
    const refused = await runCli(['start', '--config', file], { env: { DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys') } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('tenants.0.clients.0.jwksUri: a jwks_uri on a loopback host is refused');
  });
});
