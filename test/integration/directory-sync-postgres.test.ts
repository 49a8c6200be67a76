import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.js';
import type { TenantStore } from '../../src/store/tenant-store.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { slapdAvailable, startSlapd, type Slapd } from '../helpers/slapd.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { openldapConnection } from '../helpers/ldap-connections.js';
import { GROUP_DNS, PEOPLE, USERS } from '../fixtures/ldap/openldap-directory.js';

const pg = await postgresAvailable();
const slapdOk = slapdAvailable();
const both = !slapdOk.ok ? slapdOk : pg;

/**
 * The same engine on PostgreSQL (row-level security on every sync table, the application role):
 * a full run, an incremental run with a deletion, the lease and the ledger, as on SQLite.
 */
describeWhen(both, 'directory sync on PostgreSQL', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const operator = { type: 'operator' as const, id: 'test' };
  let dir: string;
  let ca: TestCa;
  let slapd: Slapd;
  let database: TestDatabase;
  let t: TestServices;
  let store: TenantStore;
  const run = async () => (await t.services.sync.run(store, 'corp', { trigger: 'cli', actor: operator }))!;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-sync-pg-'));
    ca = createTestCa(path.join(dir, 'ca'));
    slapd = await startSlapd({ ca, name: 'slapd-sync-pg' });
    database = await createTestDatabase();
    t = await createTestServices({ clock, overrides: { database: { url: database.url } } });
    await t.services.tenants.create({ id: 'acme', displayName: 'Acme' }, operator);
    await t.services.tenants.create({ id: 'other', displayName: 'Other' }, operator);
    store = t.services.store.forTenant('acme');
    await t.services.ldap.create(store, openldapConnection('corp', [slapd.ldapsUrl], slapd, ca, { users: { baseDn: PEOPLE }, sync: { presenceScanMinutes: 0 } }), operator);
  });

  afterAll(async () => {
    await t?.close();
    await database?.drop();
    await slapd?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('syncs, follows a deletion incrementally, and keeps its rows to the tenant', async () => {
    const full = await run();
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full', report: { users: { created: 8 }, groups: { created: 7 }, memberships: { added: 11 } } });
    const alice = (await store.users.findAllByUsername('alice'))[0]!;
    expect((await store.groups.effectiveGroupsOfUser(alice.id)).map((g) => g.name)).toContain(GROUP_DNS.allStaff);
    await slapd.asAdmin((c) => c.del(USERS.bob.dn));
    const incremental = await run();
    expect(incremental).toMatchObject({ status: 'succeeded', mode: 'incremental', report: { users: { disabled: 1 }, missing: { users: 1 } } });
    expect((await store.users.findAllByUsername('bob'))[0]).toMatchObject({ status: 'disabled' });
    const status = await t.services.sync.status(store, 'corp');
    expect(status.objects).toMatchObject({ users: 7, missingUsers: 1 });
    // The scheduler's cross-tenant look at the connections (maintenance scope).
    expect(await t.services.store.ldapConnectionsForSync()).toEqual([expect.objectContaining({ tenantId: 'acme', connectionId: 'corp', lastStartedAt: expect.any(Number) })]);
    // Another tenant sees none of it (row-level security and the tenant scope).
    const other = t.services.store.forTenant('other');
    expect(await other.sync.getState('corp')).toBeUndefined();
    expect(await other.sync.listRuns('corp', { limit: 10 })).toEqual([]);
  });
});
