import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/clock.js';
import { TENANT_TABLES } from '../../src/store/database.js';
import { parseTenantSettings } from '../../src/tenants/tenant-settings.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

const SETTINGS = parseTenantSettings({});

/**
 * One contract for both storage implementations (DESIGN.md, convention 8): everything here runs
 * against SQLite and against PostgreSQL.
 */
function storeContract(name: string, open: (clock: ManualClock) => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`${name} store contract`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await open(clock));
      await store.migrate();
      for (const id of ['alpha', 'beta']) {
        await store.createTenant({ id, displayName: id.toUpperCase(), status: 'active', settings: SETTINGS }, async () => {});
      }
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    it('applies migrations once and reports them', async () => {
      const again = await store.migrate();
      expect(again.ran).toEqual([]);
      expect(again.pending).toEqual([]);
      expect(again.applied).toContain('0001-foundation');
    });

    it('lists, reads and updates tenants; every update moves the revision', async () => {
      expect((await store.tenants.list()).map((t) => t.id)).toEqual(['alpha', 'beta']);
      const before = (await store.tenants.get('alpha'))!;
      const after = (await store.tenants.update('alpha', { displayName: 'Alpha Inc' }))!;
      expect(after.displayName).toBe('Alpha Inc');
      expect(after.revision).toBe(before.revision + 1);
      await store.forTenant('alpha').bumpRevision();
      expect((await store.tenants.get('alpha'))!.revision).toBe(before.revision + 2);
    });

    it('refuses a second tenant with the same id', async () => {
      await expect(store.createTenant({ id: 'alpha', displayName: 'dup', status: 'active', settings: SETTINGS }, async () => {})).rejects.toMatchObject({
        code: 'tenant.exists',
      });
    });

    it('writes nothing when creating a tenant fails half-way', async () => {
      await expect(
        store.createTenant({ id: 'gamma', displayName: 'G', status: 'active', settings: SETTINGS }, async (ts) => {
          await ts.resourceServers.upsert({ identifier: 'https://api.gamma', name: undefined, settings: { scopes: [], accessTokenFormat: 'jwt', accessTokenTtl: 60, userClaims: [] } });
          throw new Error('key generation failed');
        }),
      ).rejects.toThrow('key generation failed');
      expect(await store.tenants.get('gamma')).toBeUndefined();
    });

    it('keeps each tenant\'s rows apart', async () => {
      const a = store.forTenant('alpha');
      const b = store.forTenant('beta');
      await a.clients.insert({ clientId: 'shared-name', name: 'A app', type: 'confidential', secretDigest: 'sha256:aa', settings: { grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], firstParty: false, scopes: [], resources: [], tokenEndpointAuthMethod: 'client_secret_basic' } });
      await b.clients.insert({ clientId: 'shared-name', name: 'B app', type: 'public', secretDigest: undefined, settings: { grantTypes: ['authorization_code'], redirectUris: ['https://b/cb'], postLogoutRedirectUris: [], firstParty: false, scopes: [], resources: [], tokenEndpointAuthMethod: 'none' } });
      expect((await a.clients.get('shared-name'))!.name).toBe('A app');
      expect((await b.clients.get('shared-name'))!.name).toBe('B app');
      expect(await a.clients.list()).toHaveLength(1);
      await a.users.insert({ id: 'u1', username: 'Alice', email: 'Alice@Example.com', emailVerified: true, givenName: 'Alice', familyName: 'A', displayName: 'Alice A', phone: undefined, address: undefined, status: 'active', passwordHash: undefined, source: 'local', externalId: undefined, attributes: {} });
      expect((await a.users.findByUsername('ALICE'))!.email).toBe('alice@example.com');
      expect(await b.users.findByUsername('alice')).toBeUndefined();
      expect(await b.users.get('u1')).toBeUndefined();
      expect(await b.tenant()).toMatchObject({ id: 'beta' });
    });

    it('refuses queries of a tenant handle that are not limited to its tenant', async () => {
      const a = store.forTenant('alpha') as any;
      const db = a.db;
      await expect(db.selectFrom('clients').selectAll().execute()).rejects.toMatchObject({ code: 'store.unscoped_query' });
      await expect(db.selectFrom('clients').selectAll().where('tenant_id', '=', 'beta').execute()).rejects.toMatchObject({ code: 'store.unscoped_query' });
      await expect(db.deleteFrom('users').where('id', '=', 'u1').execute()).rejects.toMatchObject({ code: 'store.unscoped_query' });
      await expect(db.updateTable('users').set({ tenant_id: 'beta' }).where('tenant_id', '=', 'alpha').execute()).rejects.toMatchObject({ code: 'store.unscoped_query' });
      await expect(
        db.insertInto('groups').values({ tenant_id: 'beta', id: 'g', name: 'g', display_name: null, source: 'local', external_id: null, created_at: 0, updated_at: 0 }).execute(),
      ).rejects.toMatchObject({ code: 'store.unscoped_query' });
      await expect(db.selectFrom('tenants').selectAll().execute()).rejects.toMatchObject({ code: 'store.unscoped_query' });
      expect(await db.selectFrom('clients').selectAll().where('tenant_id', '=', 'alpha').execute()).toHaveLength(1);
    });

    it('stores oidc-provider payloads with expiry, lookup by uid, consumption and grant revocation', async () => {
      const a = store.forTenant('alpha');
      await a.oidc.upsert('AuthorizationCode', 'code1', { grantId: 'g1', accountId: 'u1', kind: 'AuthorizationCode' }, 60);
      await a.oidc.upsert('AccessToken', 'at1', { grantId: 'g1', kind: 'AccessToken' }, 600);
      await a.oidc.upsert('Interaction', 'i1', { uid: 'uid-1', kind: 'Interaction' }, 30);
      await a.oidc.upsert('Session', 's1', { uid: 'sess-uid', accountId: 'u1', kind: 'Session' }, 3600);
      expect((await a.oidc.find('AuthorizationCode', 'code1'))!.payload).toMatchObject({ grantId: 'g1' });
      expect(await store.forTenant('beta').oidc.find('AuthorizationCode', 'code1')).toBeUndefined();
      expect((await a.oidc.findByUid('Session', 'sess-uid'))!.payload.accountId).toBe('u1');
      expect(await a.oidc.listByAccount('Session', 'u1')).toHaveLength(1);
      await a.oidc.consume('AuthorizationCode', 'code1');
      expect((await a.oidc.find('AuthorizationCode', 'code1'))!.consumedAt).toBe(clock.now());
      clock.advance(31_000);
      expect(await a.oidc.find('Interaction', 'i1')).toBeUndefined();
      await a.oidc.revokeByGrantId('g1');
      expect(await a.oidc.find('AccessToken', 'at1')).toBeUndefined();
      expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
      await a.oidc.destroy('Session', 's1');
      expect(await a.oidc.find('Session', 's1')).toBeUndefined();
    });

    it('resolves nested group membership without looping', async () => {
      const a = store.forTenant('alpha');
      for (const g of ['eng', 'staff', 'all']) await a.groups.insert({ id: g, name: g, displayName: undefined, source: 'local', externalId: undefined });
      await a.groups.addMember('eng', 'user', 'u1');
      await a.groups.addMember('staff', 'group', 'eng');
      await a.groups.addMember('all', 'group', 'staff');
      await a.groups.addMember('eng', 'group', 'all'); // a loop
      expect((await a.groups.effectiveGroupsOfUser('u1')).map((g) => g.name)).toEqual(['all', 'eng', 'staff']);
    });

    it('appends audit events and lists them newest first, per tenant', async () => {
      const a = store.forTenant('alpha');
      for (let i = 0; i < 3; i++) {
        clock.advance(1);
        await a.audit.append({ id: `${clock.now().toString(16).padStart(12, '0')}${i}`, occurredAt: clock.now(), actorType: 'system', actorId: undefined, action: i === 2 ? 'signin.failed' : 'client.created', targetType: undefined, targetId: undefined, outcome: 'success', reason: undefined, clientIp: '127.0.0.1', userAgent: undefined, requestId: undefined, details: { i } });
      }
      const events = await a.audit.list();
      expect(events.map((e) => e.details!.i)).toEqual([2, 1, 0]);
      expect(await a.audit.list({ action: 'signin.*' })).toHaveLength(1);
      expect(await store.forTenant('beta').audit.list()).toHaveLength(0);
    });

    it('appends a batch of audit events in one go, to its own tenant only', async () => {
      const b = store.forTenant('beta');
      const event = (i: number) => ({ id: `${clock.now().toString(16).padStart(12, '0')}b${i}`, occurredAt: clock.now(), actorType: 'client', actorId: 'job', action: 'token.issued', targetType: undefined, targetId: undefined, outcome: 'success' as const, reason: undefined, clientIp: undefined, userAgent: undefined, requestId: undefined, details: { i } });
      clock.advance(1);
      await b.audit.appendMany([0, 1, 2, 3].map(event));
      expect((await b.audit.list({ action: 'token.issued' })).map((e) => e.details!.i)).toEqual([3, 2, 1, 0]);
      expect(await store.forTenant('alpha').audit.list({ action: 'token.issued' })).toHaveLength(0);
    });

    it('rolls a tenant transaction back as a whole', async () => {
      const a = store.forTenant('alpha');
      await expect(
        a.transaction(async (trx) => {
          await trx.resourceServers.upsert({ identifier: 'https://api.rollback', name: undefined, settings: { scopes: [], accessTokenFormat: 'jwt', accessTokenTtl: 60, userClaims: [] } });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await a.resourceServers.get('https://api.rollback')).toBeUndefined();
    });
  });
}

storeContract('SQLite', async (clock) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-store-'));
  return { store: openStore({ url: `sqlite:${path.join(dir, 'test.db')}`, clock }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

const pgAvailable = await postgresAvailable();
describeWhen(pgAvailable, 'PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  storeContract('PostgreSQL', async (clock) => ({ store: openStore({ url: database.url, clock }), cleanup: async () => {} }));

  describe('row-level security, the second line of defence', () => {
    let store: Store;
    let client: pg.Client;
    beforeAll(async () => {
      store = openStore({ url: database.url });
      await store.migrate();
      client = new pg.Client({ connectionString: database.url });
      await client.connect();
      // As the application role, like the application's own connections, never as the owner.
      await client.query('SET ROLE gatehouse_app');
    });
    afterAll(async () => {
      await client.end();
      await store.close();
    });

    it('enables and forces a tenant policy on every tenant table', async () => {
      const { rows } = await client.query(
        `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1)`,
        [['tenants', ...TENANT_TABLES]],
      );
      expect(rows).toHaveLength(TENANT_TABLES.length + 1);
      for (const row of rows) expect([row.relname, row.relrowsecurity, row.relforcerowsecurity]).toEqual([row.relname, true, true]);
    });

    it('shows no rows to a query without the tenant setting, even one without any WHERE', async () => {
      await client.query(`SELECT set_config('app.tenant_id', '', false), set_config('app.maintenance', 'off', false)`);
      expect((await client.query('SELECT * FROM clients')).rows).toHaveLength(0);
      expect((await client.query('SELECT * FROM tenants')).rows).toHaveLength(0);
    });

    it('shows only the set tenant\'s rows, and refuses writes into another tenant', async () => {
      await client.query(`SELECT set_config('app.tenant_id', 'alpha', false)`);
      const { rows } = await client.query('SELECT tenant_id, client_id FROM clients');
      expect(rows.every((r) => r.tenant_id === 'alpha')).toBe(true);
      expect(rows.length).toBeGreaterThan(0);
      await expect(
        client.query(`INSERT INTO clients (tenant_id, client_id, type, config, created_at, updated_at) VALUES ('beta', 'x', 'public', '{}', 0, 0)`),
      ).rejects.toThrow(/row-level security/);
    });

    it('does not let the application role change the audit log', async () => {
      await client.query(`SELECT set_config('app.tenant_id', 'alpha', false)`);
      await expect(client.query(`UPDATE audit_events SET outcome = 'success'`)).rejects.toThrow(/permission denied/);
    });
  });
});
