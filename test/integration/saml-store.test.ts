import { parseTenantSettings } from '../../src/tenants/tenant-settings.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/clock.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

/** The SAML tables' contract, on SQLite and PostgreSQL alike (DESIGN.md, convention 8). */
function samlStoreContract(name: string, open: (clock: ManualClock) => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`${name}: SAML state in the store`, () => {
    const clock = new ManualClock(Date.UTC(2031, 5, 1));
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ store, cleanup } = await open(clock));
      await store.migrate();
      for (const id of ['alpha', 'beta']) await store.createTenant({ id, displayName: id, status: 'active', settings: parseTenantSettings({}) }, async () => {});
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    it('remembers an assertion id once per connection and tenant (the replay check)', async () => {
      const alpha = store.forTenant('alpha').saml.assertionIds;
      const until = clock.now() + 60_000;
      expect(await alpha.remember('partner', '_a1', until)).toBe(true);
      expect(await alpha.remember('partner', '_a1', until)).toBe(false);
      expect(await alpha.remember('other', '_a1', until)).toBe(true);
      expect(await store.forTenant('beta').saml.assertionIds.remember('partner', '_a1', until)).toBe(true);
      const racing = await Promise.all(Array.from({ length: 5 }, () => alpha.remember('partner', '_a2', until)));
      expect(racing.filter(Boolean)).toHaveLength(1);
    });

    it('consumes a pending request once, not after it expired, and only in its own tenant', async () => {
      const messages = store.forTenant('alpha').saml.messages;
      await messages.insert({ id: '_r1', connectionId: 'partner', kind: 'authn', payload: { relayState: 'x', interactionUid: 'u' }, expiresAt: clock.now() + 1000 });
      expect(await store.forTenant('beta').saml.messages.findLive('_r1', 'authn')).toBeUndefined();
      expect(await messages.findLive('_r1', 'logout')).toBeUndefined();
      const racing = await Promise.all([messages.consume('_r1', 'authn'), messages.consume('_r1', 'authn'), messages.consume('_r1', 'authn')]);
      expect(racing.filter(Boolean)).toHaveLength(1);
      expect((await messages.findLive('_r1', 'authn'))?.consumedAt).toBe(clock.now());
      await messages.insert({ id: '_r2', connectionId: 'partner', kind: 'authn', payload: {}, expiresAt: clock.now() + 1000 });
      clock.advance(1000);
      expect(await messages.consume('_r2', 'authn')).toBe(false);
      expect(await messages.findLive('_r2', 'authn')).toBeUndefined();
    });

    it('purges expired SAML state with the rest', async () => {
      const s = store.forTenant('alpha').saml;
      await s.sessions.insert({ id: 'ss1', connectionId: 'partner', accountId: 'acc', nameId: 'n', nameIdFormat: undefined, nameQualifier: undefined, spNameQualifier: undefined, sessionIndex: 'i', expiresAt: clock.now() + 10 });
      expect(await s.sessions.listByAccount('acc')).toHaveLength(1);
      clock.advance(120_000);
      expect(await store.purgeExpired()).toBeGreaterThanOrEqual(5);
      expect(await s.assertionIds.remember('partner', '_a1', clock.now() + 1)).toBe(true);
      expect(await s.sessions.listByAccount('acc')).toHaveLength(0);
    });

    it('lists the connections whose metadata is due, across tenants', async () => {
      const base = { displayName: 'P', enabled: true, settings: {} as never, idp: { entityId: 'e', signingCertificates: [], sso: [], slo: [], source: 'metadata-url' as const }, spCertificates: { signing: '', encryption: '', createdAt: 0 }, spKeysSealed: 'x', declared: false };
      await store.forTenant('alpha').saml.connections.insert({ ...base, id: 'due', metadataRefreshAt: clock.now() - 1 });
      await store.forTenant('beta').saml.connections.insert({ ...base, id: 'later', metadataRefreshAt: clock.now() + 60_000 });
      await store.forTenant('beta').saml.connections.insert({ ...base, id: 'file', metadataRefreshAt: undefined });
      expect(await store.samlConnectionsDueForMetadataRefresh(10)).toEqual([{ tenantId: 'alpha', connectionId: 'due' }]);
    });
  });
}

samlStoreContract('SQLite', async (clock) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-saml-store-'));
  return { store: openStore({ url: `sqlite:${path.join(dir, 'gh.db')}`, clock }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

const pg = await postgresAvailable();
describeWhen(pg, 'SAML state on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());
  samlStoreContract('PostgreSQL', async (clock) => ({ store: openStore({ url: database.url, clock }), cleanup: async () => {} }));
});
