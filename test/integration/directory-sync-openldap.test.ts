import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Attribute, Change } from 'ldapts';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logging/logger.js';
import { linkExternalIdentity } from '../../src/directory/identity-linker.js';
import { SyncScheduler } from '../../src/directory/sync/sync-scheduler.js';
import type { SyncChange } from '../../src/directory/sync/sync-changes.js';
import type { TenantStore } from '../../src/store/tenant-store.js';
import type { UserRecord } from '../../src/store/repositories/user-repository.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { slapdAvailable, startSlapd, type Slapd } from '../helpers/slapd.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { openldapConnection } from '../helpers/ldap-connections.js';
import { BASE_DN, GROUP_DNS, PEOPLE, USERS, entryUuidFor } from '../fixtures/ldap/openldap-directory.js';

const DAY = 86_400_000;

/**
 * Directory sync against a real OpenLDAP (slapd, the LDAP sign-in fixtures), in one tenant
 * whose directory starts empty: full and incremental runs, renames and moves followed by
 * entryUUID, nested groups, the grace period on a controlled clock, and the safety rails
 * (dry run, deletion threshold, changed settings). The tests build on each other, in order.
 */
describeWhen(slapdAvailable(), 'directory sync from OpenLDAP (slapd)', () => {
  const TENANT = 'acme';
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const operator = { type: 'operator' as const, id: 'test' };
  let dir: string;
  let ca: TestCa;
  let slapd: Slapd;
  let t: TestServices;
  let store: TenantStore;

  const run = async (options: { full?: boolean; confirmDeletions?: boolean; connection?: string } = {}) => {
    const changes: SyncChange[] = [];
    const result = (await t.services.sync.run(store, options.connection ?? 'corp', { trigger: 'cli', actor: operator, ...options, onChange: (c) => changes.push(c) }))!;
    return { ...result, changes };
  };
  const byUsername = async (username: string): Promise<UserRecord | undefined> => (await store.users.findAllByUsername(username)).find((u) => u.source === 'ldap:corp');
  const userById = (id: string) => store.users.get(id);
  const groupNamesOf = async (userId: string) => (await store.groups.effectiveGroupsOfUser(userId)).map((g) => g.name).sort();
  const lastSeq = async () => (await store.directoryChanges.bounds()).lastSeq;
  const changesSince = async (seq: number) => store.directoryChanges.list(seq, 10_000);
  const person = (uid: string, extra: Record<string, string> = {}) => ({
    objectClass: 'inetOrgPerson',
    uid,
    cn: `${uid} Newcomer`,
    sn: 'Newcomer',
    givenName: uid,
    mail: `${uid}@example.com`,
    ...extra,
  });
  /** Every row of every table: a dry run must leave this exactly as it was. */
  const everyRow = () => {
    const db = new BetterSqlite3(path.join(t.dir, 'gatehouse.db'), { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
      return Object.fromEntries(tables.map((name) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]));
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-sync-'));
    ca = createTestCa(path.join(dir, 'ca'));
    slapd = await startSlapd({ ca, name: 'slapd-sync' });
    await slapd.asAdmin((c) => c.add(`ou=former,${BASE_DN}`, { objectClass: 'organizationalUnit', ou: 'former' }));
    t = await createTestServices({ clock });
    await t.services.tenants.create({ id: TENANT, displayName: 'Acme', settings: { sync: { deleteAfterDays: 7 } } }, operator);
    store = t.services.store.forTenant(TENANT);
    // Users directly under ou=people (move out = leave the scope); presence scans at every run.
    await t.services.ldap.create(
      store,
      openldapConnection('corp', [slapd.ldapsUrl], slapd, ca, { users: { baseDn: PEOPLE }, sync: { presenceScanMinutes: 0 } }),
      operator,
    );
  });

  afterAll(async () => {
    await t?.close();
    await slapd?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('full sync', () => {
    it('brings every user and group, with the profile sign-in gives, anchored on entryUUID, groups by DN', async () => {
      const before = await lastSeq();
      const r = await run();
      expect(r).toMatchObject({ status: 'succeeded', mode: 'full', number: 1 });
      expect(r.report.users).toMatchObject({ read: 8, created: 8, failed: 0 });
      expect(r.report.groups).toMatchObject({ read: 7, created: 7 });
      const alice = (await byUsername('alice'))!;
      expect(alice).toMatchObject({
        source: 'ldap:corp',
        externalId: entryUuidFor(USERS.alice.dn),
        email: 'alice@example.com',
        emailVerified: true,
        givenName: 'Alice',
        familyName: 'Anderson',
        displayName: 'Alice Anderson',
        phone: '+1 555 0100',
        status: 'active',
        attributes: { ldapDn: USERS.alice.dn, roles: ['admin'] },
      });
      // ppolicy's administrative lock (000001010000Z) is a disabled account; a lockout is not.
      expect((await byUsername('dave'))!.status).toBe('disabled');
      expect((await byUsername('frank'))!.status).toBe('active');
      expect((await byUsername('zoe'))!.familyName).toBe('Ñúñez');
      // Two groups called admins stay two groups, named by DN, identified by entryUUID.
      const admins = (await store.groups.list()).filter((g) => g.displayName === 'admins');
      expect(admins.map((g) => [g.name, g.externalId]).sort()).toEqual(
        [
          [GROUP_DNS.admins, entryUuidFor(GROUP_DNS.admins)],
          [GROUP_DNS.contractorAdmins, entryUuidFor(GROUP_DNS.contractorAdmins)],
        ].sort(),
      );
      // Every change is in the change feed, made by this connection's sync.
      const changes = await changesSince(before);
      expect(changes.length).toBeGreaterThan(15);
      expect(new Set(changes.map((c) => c.via))).toEqual(new Set(['sync:corp']));
      const audit = await store.audit.list({ action: 'sync.run' });
      expect(audit[0]).toMatchObject({ outcome: 'success', targetId: 'corp', details: { runId: r.runId, mode: 'full' } });
    });

    it('keeps nesting as groups in groups; effective membership comes from the group repository (two levels, a loop ends)', async () => {
      const staff = (await store.groups.findByExternalId('ldap:corp', entryUuidFor(GROUP_DNS.staff)))!;
      const engineering = (await store.groups.findByExternalId('ldap:corp', entryUuidFor(GROUP_DNS.engineering)))!;
      const carol = (await byUsername('carol'))!;
      expect(await store.groups.members(staff.id)).toEqual(expect.arrayContaining([{ type: 'group', id: engineering.id }, { type: 'user', id: carol.id }]));
      expect(await groupNamesOf((await byUsername('alice'))!.id)).toEqual([GROUP_DNS.admins, GROUP_DNS.allStaff, GROUP_DNS.engineering, GROUP_DNS.staff].sort());
      expect(await groupNamesOf((await byUsername('zoe'))!.id)).toEqual([GROUP_DNS.loopA, GROUP_DNS.loopB].sort());
    });

    it('agrees with sign-in: linking alice at sign-in afterwards changes nothing', async () => {
      const tenant = await t.services.tenants.get(TENANT);
      const connector = (await t.services.ldapConnectors.connectorsFor(tenant, store)).find((c) => c.id === 'corp')!;
      const signIn = await connector.checkPassword('alice', USERS.alice.password, { tenantId: TENANT, logger: silentLogger() });
      if (!signIn.ok) throw new Error(signIn.reason);
      const before = await lastSeq();
      const linked = await linkExternalIdentity(store, signIn.identity);
      expect(linked).toMatchObject({ created: false, user: { id: (await byUsername('alice'))!.id } });
      expect(await lastSeq()).toBe(before);
    });

    it('a second run is incremental and changes nothing', async () => {
      const before = await lastSeq();
      const r = await run();
      expect(r).toMatchObject({ status: 'succeeded', mode: 'incremental' });
      expect(r.changes).toEqual([]);
      expect(await lastSeq()).toBe(before);
      // It asked slapd only for what changed since its mark.
      expect(slapd.log()).toMatch(/filter="\(&\(objectClass=inetOrgPerson\)\(modifyTimestamp>=\d{14}Z\)\)"/);
    });
  });

  describe('incremental runs', () => {
    const ids: Record<string, string> = {};

    it('follow adds, modifications, renames, moves out of scope and deletions', async () => {
      for (const u of ['bob', 'erin', 'carol', 'zoe']) ids[u] = (await byUsername(u))!.id;
      await slapd.asAdmin(async (c) => {
        await c.add(`uid=gina,${PEOPLE}`, person('gina'));
        await c.modify(GROUP_DNS.engineering, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [`uid=gina,${PEOPLE}`] }) }));
        await c.modify(USERS.bob.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['robert@example.com'] }) }));
        await c.modifyDN(USERS.erin.dn, 'uid=erin.smith');
        await c.modifyDN(USERS.carol.dn, `uid=carol,ou=former,${BASE_DN}`);
        await c.del(USERS.zoe.dn);
      });
      const r = await run();
      expect(r).toMatchObject({ status: 'succeeded', mode: 'incremental' });
      const gina = (await byUsername('gina'))!;
      expect(gina).toMatchObject({ status: 'active', email: 'gina@example.com' });
      expect(await groupNamesOf(gina.id)).toEqual([GROUP_DNS.allStaff, GROUP_DNS.engineering, GROUP_DNS.staff].sort());
      expect(await userById(ids.bob!)).toMatchObject({ email: 'robert@example.com' });
      // Renamed: the same user (id, sessions, consents), with the new name and DN.
      expect(await userById(ids.erin!)).toMatchObject({ username: 'erin.smith', status: 'active', attributes: { ldapDn: `uid=erin.smith,${PEOPLE}` } });
      // Moved out of the scope, deleted: disabled at once, kept until the grace period ends.
      expect(await userById(ids.carol!)).toMatchObject({ status: 'disabled' });
      expect(await userById(ids.zoe!)).toMatchObject({ status: 'disabled' });
      expect(r.report.missing).toEqual({ users: 2, groups: 0 });
      expect(r.report.users).toMatchObject({ created: 1, disabled: 2 });
      const ops = r.changes.map((c) => `${c.op}:${'label' in c ? c.label : c.member}`);
      expect(ops).toEqual(expect.arrayContaining(['create:gina', 'update:bob', 'update:erin.smith', 'disable:carol', 'disable:zoe']));
      // Memberships follow the groups' entries: slapd's memberof overlay rewrote staff's member
      // value to carol's new DN (outside the scope) and removed zoe from loop-a, without moving
      // the groups' modifyTimestamp; the run reads the groups of users that are gone again.
      expect(await groupNamesOf(ids.carol!)).toEqual([]);
      expect(r.changes).toEqual(expect.arrayContaining([expect.objectContaining({ op: 'remove-member', group: GROUP_DNS.staff, member: USERS.carol.dn })]));
    });

    it('gives a user back when the entry returns within the grace period', async () => {
      clock.advance(2 * DAY);
      await slapd.asAdmin((c) => c.modifyDN(`uid=carol,ou=former,${BASE_DN}`, `uid=carol,${PEOPLE}`));
      const r = await run();
      expect(r.status).toBe('succeeded');
      expect(await userById(ids.carol!)).toMatchObject({ status: 'active', attributes: { ldapDn: USERS.carol.dn } });
      expect(await groupNamesOf(ids.carol!)).toEqual([GROUP_DNS.allStaff, GROUP_DNS.staff].sort());
      expect(r.changes).toEqual(expect.arrayContaining([expect.objectContaining({ op: 'restore', label: 'carol' })]));
    });

    it('deletes a disabled user once the grace period is over, and records it in the change feed', async () => {
      clock.advance(4 * DAY);
      expect((await run()).report.users.deleted).toBe(0); // 6 days
      clock.advance(2 * DAY);
      const before = await lastSeq();
      const r = await run();
      expect(r.report.users.deleted).toBe(1);
      expect(await userById(ids.zoe!)).toBeUndefined();
      const feed = await changesSince(before);
      expect(feed.filter((c) => c.objectId === ids.zoe)).toEqual([expect.objectContaining({ kind: 'deleted', objectType: 'user', via: 'sync:corp', data: expect.objectContaining({ username: 'zoe', status: 'disabled' }) })]);
    });

    it('retries an object that failed at the next run', async () => {
      // A new entry takes the name of a user that left and is still in its grace period: refused
      // (user names are unique per source) until the old one is deleted, then created.
      const frank = (await byUsername('frank'))!;
      await slapd.asAdmin((c) => c.del(USERS.frank.dn));
      expect((await run()).report.users.disabled).toBe(1);
      await slapd.asAdmin((c) => c.add(`uid=frank,${PEOPLE}`, person('frank')));
      const failed = await run();
      expect(failed.report.errorCount).toBe(1);
      expect(failed.report.errors[0]).toMatchObject({ kind: 'user', dn: `uid=frank,${PEOPLE}`, code: 'sync.username_conflict' });
      expect((await t.services.sync.status(store, 'corp')).objects.retries).toBe(1);
      clock.advance(8 * DAY);
      await run(); // deletes the old frank (the new one still fails earlier in that run)
      expect(await userById(frank.id)).toBeUndefined();
      const retried = await run();
      expect(retried.report.errorCount).toBe(0);
      expect(await byUsername('frank')).toMatchObject({ status: 'active', externalId: expect.not.stringMatching(frank.externalId!) });
      expect((await t.services.sync.status(store, 'corp')).objects.retries).toBe(0);
    });
  });

  describe('safety rails', () => {
    it('a dry run shows what would change and writes nothing at all: no row, no change-feed entry, no audit event', async () => {
      await slapd.asAdmin(async (c) => {
        await c.add(`uid=hank,${PEOPLE}`, person('hank'));
        await c.del(`uid=gina,${PEOPLE}`);
      });
      const rows = everyRow();
      const shown: SyncChange[] = [];
      const dry = await t.services.sync.dryRun(store, 'corp', { onChange: (c) => shown.push(c) });
      expect(dry).toMatchObject({ outcome: 'succeeded', mode: 'incremental' });
      expect(shown).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ op: 'create', kind: 'user', label: 'hank' }),
          expect.objectContaining({ op: 'disable', kind: 'user', label: 'gina' }),
          expect.objectContaining({ op: 'remove-member', group: GROUP_DNS.engineering, member: `uid=gina,${PEOPLE}` }),
        ]),
      );
      expect(everyRow()).toEqual(rows);
      // A dry run of a connection that never ran does not even create its state row.
      await t.services.ldap.create(store, openldapConnection('fresh', [slapd.ldapsUrl], slapd, ca), operator);
      const before = everyRow();
      expect((await t.services.sync.dryRun(store, 'fresh')).report.users.created).toBeGreaterThan(0);
      expect(everyRow()).toEqual(before);
      await t.services.ldap.remove(store, 'fresh', operator);
    });

    it('the deletion threshold stops a run before it disables anyone, says why, and lets an admin confirm', async () => {
      await t.services.ldap.update(store, 'corp', { sync: { deletionThreshold: { count: 1 } } }, operator);
      await slapd.asAdmin((c) => c.del(`uid=hank,${PEOPLE}`).catch(() => {}));
      await slapd.asAdmin((c) => c.del(USERS.bob.dn));
      const gina = (await byUsername('gina'))!;
      const bob = (await byUsername('bob'))!;
      const stopped = await run();
      expect(stopped).toMatchObject({ status: 'stopped', reason: 'sync.deletion_threshold' });
      expect(stopped.message).toMatch(/2 users are gone, more than the threshold of 1/);
      expect(stopped.report.missing.users).toBe(2);
      expect(await userById(gina.id)).toMatchObject({ status: 'active' });
      expect(await userById(bob.id)).toMatchObject({ status: 'active' });
      const auditOf = async (runId: string) => (await store.audit.list({ action: 'sync.run' })).find((e) => e.details?.runId === runId);
      expect(await auditOf(stopped.runId)).toMatchObject({ outcome: 'failure', reason: 'sync.deletion_threshold' });
      expect((await t.services.sync.history(store, 'corp', { limit: 1 }))[0]).toMatchObject({ status: 'stopped', reason: 'sync.deletion_threshold' });
      // A percentage works the same way.
      await t.services.ldap.update(store, 'corp', { sync: { deletionThreshold: { count: null, percent: 10 } } }, operator);
      expect((await run()).reason).toBe('sync.deletion_threshold');
      const confirmed = await run({ confirmDeletions: true });
      expect(confirmed).toMatchObject({ status: 'succeeded' });
      expect(confirmed.report.users.disabled).toBe(2);
      expect(await userById(gina.id)).toMatchObject({ status: 'disabled' });
      expect(await auditOf(confirmed.runId)).toMatchObject({ outcome: 'success', details: { confirmDeletions: true } });
      await t.services.ldap.update(store, 'corp', { sync: { deletionThreshold: { count: 500, percent: null } } }, operator);
    });

    it('a base DN that matches nothing never disables everyone', async () => {
      const present = (await t.services.sync.status(store, 'corp')).objects.users;
      // A base that does not exist fails the run; an empty one would "lose" every user.
      await t.services.ldap.update(store, 'corp', { users: { baseDn: `ou=peopel,${BASE_DN}` } }, operator);
      expect(await run()).toMatchObject({ status: 'failed', reason: 'sync.directory_failed' });
      await t.services.ldap.update(store, 'corp', { users: { baseDn: `ou=former,${BASE_DN}` } }, operator);
      const empty = await run({ confirmDeletions: false });
      expect(empty).toMatchObject({ status: 'stopped', reason: 'sync.deletion_threshold' });
      expect(empty.message).toMatch(/every user of the connection/);
      expect((await t.services.sync.status(store, 'corp')).objects.users).toBe(present);
      await t.services.ldap.update(store, 'corp', { users: { baseDn: PEOPLE } }, operator);
    });

    it('a changed setting never takes access away by itself: held until confirmed', async () => {
      const alice = (await byUsername('alice'))!;
      // A filter narrower than meant, and a bind password set again.
      await t.services.ldap.update(store, 'corp', { users: { filter: '(&(objectClass=inetOrgPerson)(!(uid=alice)))' }, bindPassword: slapd.servicePassword }, operator);
      expect((await t.services.sync.status(store, 'corp')).settingsChangedSinceLastRun).toBe(true);
      const held = await run();
      expect(held).toMatchObject({ status: 'stopped', reason: 'sync.settings_changed', mode: 'full', message: expect.any(String) });
      expect(held.report.held.disable).toBe(1);
      expect(await userById(alice.id)).toMatchObject({ status: 'active' });
      // The dry run shows what is held back.
      const dry = await t.services.sync.dryRun(store, 'corp');
      expect(dry).toMatchObject({ outcome: 'stopped', reason: 'sync.settings_changed' });
      expect(dry.report.users.disabled).toBe(1);
      // Still held at the next run; made once confirmed.
      expect((await run()).reason).toBe('sync.settings_changed');
      expect((await run({ confirmDeletions: true })).status).toBe('succeeded');
      expect(await userById(alice.id)).toMatchObject({ status: 'disabled' });
      // Widening the scope again needs no confirmation (it takes nothing away) and restores her.
      await t.services.ldap.update(store, 'corp', { users: { filter: '(objectClass=inetOrgPerson)' } }, operator);
      expect((await run()).status).toBe('succeeded');
      expect(await userById(alice.id)).toMatchObject({ status: 'active' });
      expect((await t.services.sync.status(store, 'corp')).settingsChangedSinceLastRun).toBe(false);
    });
  });

  describe('schedule', () => {
    it('runs connections whose interval has passed, once, whichever process looks', async () => {
      await t.services.ldap.update(store, 'corp', { sync: { enabled: true, intervalMinutes: 30 } }, operator);
      const scheduler = new SyncScheduler({ store: t.services.store, sync: t.services.sync, clock, logger: silentLogger(), pollIntervalSeconds: 60 });
      const other = new SyncScheduler({ store: t.services.store, sync: t.services.sync, clock, logger: silentLogger(), pollIntervalSeconds: 60 });
      const count = async () => (await t.services.sync.history(store, 'corp', { limit: 1000 })).length;
      clock.advance(31 * 60_000);
      const before = await count();
      await Promise.all([scheduler.runOnce(), other.runOnce()]);
      expect(await count()).toBe(before + 1);
      const [latest] = await t.services.sync.history(store, 'corp', { limit: 1 });
      expect(latest).toMatchObject({ trigger: 'schedule', actor: { type: 'system', id: 'sync-scheduler' }, status: 'succeeded' });
      clock.advance(10 * 60_000);
      await scheduler.runOnce();
      expect(await count()).toBe(before + 1);
      clock.advance(21 * 60_000);
      await scheduler.runOnce();
      expect(await count()).toBe(before + 2);
      await Promise.all([scheduler.stop(), other.stop()]);
    });
  });
});
