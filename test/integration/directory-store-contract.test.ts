import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/clock.js';
import { parseTenantSettings } from '../../src/tenants/tenant-settings.js';
import { directoryTransaction } from '../../src/directory/directory-writer.js';
import type { NewUser } from '../../src/store/repositories/user-repository.js';
import type { DirectoryFilter, UserFilterColumn } from '../../src/store/repositories/directory-filter.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

const ORIGIN = { actor: { type: 'system' as const, id: 'test' }, via: 'test' };

const user = (id: string, username: string, extra: Partial<NewUser> = {}): NewUser => ({
  id,
  username,
  email: undefined,
  emailVerified: false,
  givenName: undefined,
  familyName: undefined,
  displayName: undefined,
  phone: undefined,
  address: undefined,
  status: 'active',
  passwordHash: undefined,
  source: 'scim',
  externalId: undefined,
  attributes: {},
  ...extra,
});

/**
 * The directory's storage contract (change feed numbering, filters, webhook leases), run against
 * SQLite and PostgreSQL. `open` is called twice to get two stores on one database: on PostgreSQL
 * two independent connection pools (two server processes, as far as the database can tell).
 */
function directoryContract(name: string, open: (clock: ManualClock) => Store) {
  describe(`${name}: directory store contract`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let one: Store;
    let two: Store;

    beforeAll(async () => {
      one = open(clock);
      two = open(clock);
      await one.migrate();
      for (const id of ['alpha', 'beta']) await one.createTenant({ id, displayName: id, status: 'active', settings: parseTenantSettings({}) }, async () => {});
    });
    afterAll(async () => {
      await one.close();
      await two.close();
    });

    it('numbers changes per tenant without gaps, across concurrent writers of two stores', async () => {
      const write = (store: Store, i: number) =>
        directoryTransaction(store.forTenant('alpha'), ORIGIN, async (dir) => {
          await dir.createUser(user(`c${i}`, `concurrent${i}`));
          await dir.updateUser(`c${i}`, { displayName: `Concurrent ${i}` });
        });
      await Promise.all(Array.from({ length: 20 }, (_, i) => write(i % 2 ? one : two, i)));
      await directoryTransaction(one.forTenant('beta'), ORIGIN, (dir) => dir.createUser(user('b1', 'beta-user')));
      const changes = await one.forTenant('alpha').directoryChanges.list(0, 1000);
      expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      // Each writer's two changes are adjacent: writers of a tenant take turns for a whole transaction.
      for (let i = 0; i < 40; i += 2) {
        expect(changes[i]!.objectId).toBe(changes[i + 1]!.objectId);
        expect([changes[i]!.kind, changes[i + 1]!.kind]).toEqual(['created', 'updated']);
      }
      expect((await one.forTenant('beta').directoryChanges.list(0, 10)).map((c) => c.seq)).toEqual([1]);
    });

    it('gives the numbers of a rolled-back transaction back, and records nothing of it', async () => {
      const alpha = one.forTenant('alpha');
      await expect(
        directoryTransaction(alpha, ORIGIN, async (dir) => {
          await dir.createUser(user('ghost', 'ghost'));
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await alpha.users.get('ghost')).toBeUndefined();
      await directoryTransaction(alpha, ORIGIN, (dir) => dir.createUser(user('after', 'after-rollback')));
      const { lastSeq, oldestSeq } = await alpha.directoryChanges.bounds();
      expect([lastSeq, oldestSeq]).toEqual([41, 1]);
      expect((await alpha.directoryChanges.list(40, 10)).map((c) => [c.seq, c.objectId])).toEqual([[41, 'after']]);
    });

    it('versions users and groups: every change and every membership change moves the version', async () => {
      const alpha = one.forTenant('alpha');
      await directoryTransaction(alpha, ORIGIN, async (dir) => {
        await dir.createGroup({ id: 'g1', name: 'g1', displayName: undefined, source: 'scim', externalId: undefined });
        await dir.addMember('g1', 'user', 'after');
        await dir.addMember('g1', 'user', 'after'); // already a member: nothing
        await dir.updateUser('after', { displayName: undefined }); // no change: nothing
      });
      expect((await alpha.groups.get('g1'))!.version).toBe(2);
      await directoryTransaction(alpha, ORIGIN, (dir) => dir.deleteUser('after'));
      expect((await alpha.groups.get('g1'))!.version).toBe(3);
      const tail = await alpha.directoryChanges.list(41, 10);
      expect(tail.map((c) => [c.objectType, c.kind, c.version])).toEqual([
        ['group', 'created', 1],
        ['group', 'member_added', 2],
        ['group', 'member_removed', 3],
        ['user', 'deleted', 2],
      ]);
    });

    it('translates directory filters into scoped queries that agree on both databases', async () => {
      const beta = one.forTenant('beta');
      await directoryTransaction(beta, ORIGIN, async (dir) => {
        await dir.createUser(user('p1', 'percent', { displayName: 'Fifty% Off', email: 'fifty@shop.test' }));
        await dir.createUser(user('p2', 'under_score', { displayName: 'Under_Score', email: 'under@shop.test' }));
        await dir.createUser(user('p3', 'plain', { displayName: 'Plain', status: 'disabled' }));
        await dir.createGroup({ id: 'staff', name: 'staff', displayName: undefined, source: 'scim', externalId: undefined });
        await dir.addMember('staff', 'user', 'p3');
      });
      const ids = async (filter: DirectoryFilter<UserFilterColumn>) => (await beta.users.search(filter, { offset: 0, limit: 50 })).users.map((u) => u.id).sort();
      const ci = (column: UserFilterColumn, op: 'co' | 'sw' | 'ew' | 'eq', value: string): DirectoryFilter<UserFilterColumn> => ({ kind: 'compare', column, op, value, caseInsensitive: true });
      // % and _ are ordinary characters, not wildcards.
      expect(await ids(ci('display_name', 'co', '%'))).toEqual(['p1']);
      expect(await ids(ci('display_name', 'co', '_'))).toEqual(['p2']);
      expect(await ids(ci('display_name', 'sw', 'fifty%'))).toEqual(['p1']);
      expect(await ids(ci('display_name', 'ew', '_score'))).toEqual(['p2']);
      expect(await ids(ci('display_name', 'ew', 'a much longer value than any'))).toEqual([]);
      expect(await ids(ci('display_name', 'eq', 'plain'))).toEqual(['p3']);
      // Absent values: "not equal" includes them, "not (eq)" too (two-valued logic).
      expect(await ids({ kind: 'not', filter: ci('email', 'eq', 'fifty@shop.test') })).toEqual(['b1', 'p2', 'p3']);
      expect(await ids({ kind: 'present', column: 'email' })).toEqual(['p1', 'p2']);
      expect(await ids({ kind: 'member', id: 'staff' })).toEqual(['p3']);
      expect(await ids({ kind: 'and', filters: [{ kind: 'compare', column: 'status', op: 'ne', value: 'active' }, { kind: 'constant', value: true }] })).toEqual(['p3']);
      expect(await ids({ kind: 'compare', column: 'created_at', op: 'ge', value: clock.now() })).toEqual(['b1', 'p1', 'p2', 'p3']);
      const page = await beta.users.search(undefined, { offset: 1, limit: 2 });
      expect([page.total, page.users.length]).toEqual([4, 2]);
      // Alpha's filters never see beta's users.
      expect((await one.forTenant('alpha').users.search(ci('display_name', 'co', '%'), { offset: 0, limit: 10 })).total).toBe(0);
    });

    it('lets exactly one of two stores claim a delivery, and keeps deliveries of one object in order', async () => {
      const a = one.forTenant('alpha');
      await a.webhooks.insertSubscription({ id: 'hook', url: 'https://x.test', description: undefined, events: ['*'], secretSealed: 'sealed', enabled: true, declared: false, enqueuedSeq: 0 });
      expect(await one.tenantsWithWebhookWork(clock.now())).toEqual(['alpha']);
      // Two stores race to enqueue the same changes: one wins the mark, the other writes nothing.
      const enqueue = (store: Store) =>
        store.forTenant('alpha').transaction(async (trx) => {
          if (!(await trx.webhooks.advanceEnqueued('hook', 0, 3))) return false;
          for (const seq of [1, 2, 3]) await trx.webhooks.insertDelivery({ id: `hook.${seq}`, subscriptionId: 'hook', seq, orderingKey: seq === 3 ? 'user:other' : 'user:x', eventType: 'user.updated', payload: '{}' });
          return true;
        });
      const won = await Promise.all([enqueue(one), enqueue(two)]);
      expect(won.filter(Boolean)).toHaveLength(1);
      // seq 2 waits behind seq 1 (same object); seq 3 is another object.
      expect((await a.webhooks.dueHeads(clock.now(), 10)).map((d) => d.seq)).toEqual([1, 3]);
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).forTenant('alpha').webhooks.claim('hook.1', `owner-${i}`, clock.now(), clock.now() + 60_000)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const owner = `owner-${claims.indexOf(true)}`;
      expect((await a.webhooks.dueHeads(clock.now(), 10)).map((d) => d.seq)).toEqual([3]);
      // Only the lease holder may finish the attempt.
      const outcome = { startedAt: clock.now(), durationMs: 5, statusCode: 200, error: undefined, status: 'delivered' as const, nextAttemptAt: undefined };
      expect(await a.transaction((trx) => trx.webhooks.finishAttempt('hook.1', 'someone-else', outcome))).toBe(false);
      expect(await a.transaction((trx) => trx.webhooks.finishAttempt('hook.1', owner, outcome))).toBe(true);
      expect((await a.webhooks.dueHeads(clock.now(), 10)).map((d) => d.seq)).toEqual([2, 3]);
      // An expired lease can be taken over (a dispatcher that died mid-attempt).
      expect(await a.webhooks.claim('hook.2', 'dead', clock.now(), clock.now() + 1000)).toBe(true);
      expect(await a.webhooks.claim('hook.2', 'alive', clock.now(), clock.now() + 1000)).toBe(false);
      clock.advance(1001);
      expect(await a.webhooks.claim('hook.2', 'alive', clock.now(), clock.now() + 1000)).toBe(true);
      expect((await a.webhooks.attempts('hook.1')).map((x) => x.statusCode)).toEqual([200]);
    });

    it('purges changes and finished deliveries past their retention', async () => {
      clock.advance(10_000);
      const removed = await one.purgeExpired({ directoryChangesBefore: clock.now() - 5_000, webhookDeliveriesBefore: clock.now() + 1 });
      expect(removed).toBeGreaterThan(40);
      const alpha = one.forTenant('alpha');
      expect((await alpha.directoryChanges.bounds()).oldestSeq).toBeUndefined();
      expect(await alpha.webhooks.getDelivery('hook.1')).toBeUndefined();
      expect(await alpha.webhooks.getDelivery('hook.2')).toBeDefined(); // still pending: kept
      expect((await alpha.directoryChanges.bounds()).lastSeq).toBe(45);
    });
  });
}

// One SQLite store per process, as in production: better-sqlite3 is synchronous, so a second
// connection in the same process waiting on the first one's write lock would block the very
// event loop the first needs to commit. Across processes SQLite's single write lock (taken by the
// first statement of a directory transaction) serializes writers; sqlite-processes.test.ts runs
// that with real processes.
let sqliteDir: string;
let sqlite: Store | undefined;
directoryContract('SQLite', (clock) => {
  sqliteDir ??= mkdtempSync(path.join(tmpdir(), 'gh-directory-'));
  if (sqlite) return Object.assign(Object.create(sqlite) as Store, { close: async () => {} });
  sqlite = openStore({ url: `sqlite:${path.join(sqliteDir, 'test.db')}`, clock });
  return sqlite;
});
afterAll(() => {
  if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
});

const pgAvailable = await postgresAvailable();
let database: TestDatabase | undefined;
describeWhen(pgAvailable, 'PostgreSQL', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());
  directoryContract('PostgreSQL', (clock) => openStore({ url: database!.url, clock }));
});
