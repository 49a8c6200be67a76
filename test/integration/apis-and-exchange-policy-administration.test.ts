import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startGatehouse, type TestGatehouse } from '../helpers/gatehouse.js';
import { TOKEN_EXCHANGE_GRANT } from '../../src/tokens/token-exchange-policy.js';

const BILLING = 'https://api.acme.test/billing';
const ORDERS = 'https://api.acme.test/orders';

/** APIs (resource servers) and token exchange policies, through the real CLI (a process per command). */
describe('gatehouse CLI: APIs and token exchange policies', () => {
  let dir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli([...args, '--json'], { env });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-apis-'));
    env = { DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent' };
    expect((await cli('tenant', 'create', 'acme', '--name', 'Acme')).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('registers an API with its identifier, scopes, token format, lifetime and user claims, and changes it', async () => {
    const created = await cli('resource', 'create', 'acme', BILLING, '--scope', 'invoices:read', '--scope', 'invoices:write', '--format', 'opaque', '--ttl', '120', '--user-claim', 'roles', '--user-claim', 'groups');
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({ identifier: BILLING, scopes: ['invoices:read', 'invoices:write'], accessTokenFormat: 'opaque', accessTokenTtl: 120, userClaims: ['roles', 'groups'] });

    const updated = await cli('resource', 'update', 'acme', BILLING, '--format', 'jwt', '--ttl', '300', '--no-user-claims');
    expect(updated.code).toBe(0);
    expect(updated.json()).toMatchObject({ accessTokenFormat: 'jwt', accessTokenTtl: 300, userClaims: [], scopes: ['invoices:read', 'invoices:write'] });

    const badFormat = await cli('resource', 'update', 'acme', BILLING, '--format', 'paseto');
    expect(badFormat.code).toBe(2);
    expect(badFormat.json().message).toContain('accessTokenFormat');
  });

  it('sets a token exchange policy on an app at creation and later, and refuses one naming unknown APIs or scopes', async () => {
    expect((await cli('resource', 'create', 'acme', ORDERS, '--scope', 'orders:read', '--scope', 'invoices:read')).code).toBe(0);
    const created = await cli('client', 'create', 'acme', '--id', 'orders-service', '--exchange', `${BILLING}=invoices:read`, '--exchange-subject-audience', ORDERS);
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({
      grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT],
      tokenExchange: { resources: [{ resource: BILLING, scopes: ['invoices:read'] }], subjectAudiences: [ORDERS] },
    });

    const widened = await cli('client', 'set-exchange', 'acme', 'orders-service', '--exchange', `${BILLING}=invoices:read,invoices:write`);
    expect(widened.code).toBe(0);
    expect(widened.json().tokenExchange).toEqual({ resources: [{ resource: BILLING, scopes: ['invoices:read', 'invoices:write'] }] });

    const unknownScope = await cli('client', 'set-exchange', 'acme', 'orders-service', '--exchange', `${BILLING}=invoices:delete`);
    expect(unknownScope.code).toBe(2);
    expect(unknownScope.json().message).toContain('has no scope "invoices:delete"');
    const unknownApi = await cli('client', 'set-exchange', 'acme', 'orders-service', '--exchange', 'https://nowhere.test=x');
    expect(unknownApi.code).toBe(2);
    expect(unknownApi.json().message).toContain('no API "https://nowhere.test"');

    const removed = await cli('client', 'set-exchange', 'acme', 'orders-service', '--remove');
    expect(removed.code).toBe(0);
    expect(removed.json()).toMatchObject({ grantTypes: ['client_credentials'] });
    expect(removed.json().tokenExchange).toBeUndefined();
  });

  it('refuses to remove an API scope that an app is still granted', async () => {
    expect((await cli('client', 'create', 'acme', '--id', 'reader', '--resource', `${BILLING}=invoices:read`)).code).toBe(0);
    const narrowed = await cli('resource', 'update', 'acme', BILLING, '--scope', 'invoices:write');
    expect(narrowed.code).toBe(1);
    expect(narrowed.json().message).toContain('reader (invoices:read)');
  });

  it('records API and policy changes in the audit log', async () => {
    const actions = (await cli('audit', 'list', 'acme', '--limit', '100')).json().map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['resource.created', 'resource.updated', 'client.token_exchange_set']));
  });
});

describe('declarative configuration: APIs and token exchange policies', () => {
  let gh: TestGatehouse;
  afterAll(async () => gh?.stop());

  it('creates declared APIs with every setting and apps with their exchange policy', async () => {
    gh = await startGatehouse({
      overrides: {
        tenants: [
          {
            id: 'acme',
            displayName: 'Acme',
            resources: [
              { identifier: ORDERS, scopes: ['orders:read', 'invoices:read'] },
              { identifier: BILLING, scopes: ['invoices:read'], accessTokenFormat: 'opaque', accessTokenTtl: 90, userClaims: ['roles'] },
            ],
            clients: [
              {
                clientId: 'orders-service',
                secret: 'a'.repeat(43),
                tokenExchange: { resources: [{ resource: BILLING, scopes: ['invoices:read'] }], subjectAudiences: [ORDERS] },
              },
            ],
          },
        ],
      },
    });
    const store = gh.services.store.forTenant('acme');
    expect((await store.resourceServers.get(BILLING))!.settings).toMatchObject({ accessTokenFormat: 'opaque', accessTokenTtl: 90, userClaims: ['roles'], declared: true });
    const client = (await store.clients.get('orders-service'))!;
    expect(client.settings.grantTypes).toContain(TOKEN_EXCHANGE_GRANT);
    expect(client.settings.tokenExchange).toEqual({ resources: [{ resource: BILLING, scopes: ['invoices:read'] }], subjectAudiences: [ORDERS] });
    await expect(gh.services.clients.setTokenExchange(store, 'orders-service', undefined, { type: 'operator', id: 't' })).rejects.toMatchObject({ code: 'client.declared' });
    await expect(gh.services.resources.update(store, BILLING, { accessTokenTtl: 60 }, { type: 'operator', id: 't' })).rejects.toMatchObject({ code: 'resource.declared' });
  });
});
