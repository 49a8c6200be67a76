import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Attribute, Change } from 'ldapts';
import { ManualClock } from '../../src/clock.js';
import type { TenantStore } from '../../src/store/tenant-store.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { sambaAvailable, startSambaAd, type SambaAd } from '../helpers/samba-ad.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { AD_GROUP_DNS, AD_PEOPLE, AD_USERS, adUserDn } from '../fixtures/ldap/active-directory-directory.js';

/**
 * Directory sync from a real Active Directory domain controller (Samba AD DC) with the
 * "active-directory" preset: a full run, then an incremental run that reads only what changed
 * by uSNChanged against the DC's highestCommittedUSN; a disabled account, nested groups.
 */
describeWhen(sambaAvailable(), 'directory sync from Active Directory (Samba AD DC)', () => {
  const TENANT = 'globex';
  const clock = new ManualClock(Date.now());
  const operator = { type: 'operator' as const, id: 'test' };
  let dir: string;
  let ca: TestCa;
  let ad: SambaAd;
  let t: TestServices;
  let store: TenantStore;

  const run = async () => (await t.services.sync.run(store, 'corp-ad', { trigger: 'cli', actor: operator }))!;
  const user = async (sAMAccountName: string) => (await store.users.findAllByUsername(sAMAccountName)).find((u) => u.source === 'ldap:corp-ad');
  /** objectGUID as Samba's own tool prints it: independent of Gatehouse's GUID formatting. */
  const guidOf = (sAMAccountName: string) => /objectGUID: ([0-9a-f-]{36})/.exec(ad.sambaTool(['user', 'show', sAMAccountName, '--attributes=objectGUID']))![1]!;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-ad-sync-'));
    ca = createTestCa(path.join(dir, 'ca'));
    ad = await startSambaAd({ ca });
    t = await createTestServices({ clock });
    await t.services.tenants.create({ id: TENANT, displayName: 'Globex' }, operator);
    store = t.services.store.forTenant(TENANT);
    await t.services.ldap.create(
      store,
      {
        id: 'corp-ad',
        preset: 'active-directory',
        servers: [ad.ldapsUrl],
        baseDn: ad.baseDn,
        bindDn: ad.serviceUpn,
        bindPassword: ad.servicePassword,
        tls: { caCertificates: [ca.certPem] },
        // People and groups of the test domain (not the built-in accounts and groups).
        users: { baseDn: AD_PEOPLE },
        groups: { baseDn: `OU=Groups,${ad.baseDn}` },
        sync: { presenceScanMinutes: 0 },
      },
      operator,
    );
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await ad?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a full run brings users (objectGUID anchors, a disabled account) and nested groups', async () => {
    const r = await run();
    expect(r).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(r.markAfter).toMatch(/^uSNChanged > \d+ \(on CN=NTDS Settings,CN=DC1,.*#[0-9a-f-]{36}\)$/);
    expect(r.report.users).toMatchObject({ read: Object.keys(AD_USERS).length, created: Object.keys(AD_USERS).length, failed: 0 });
    expect(r.report.groups).toMatchObject({ read: 5, created: 5 });
    expect(await user('alice')).toMatchObject({ externalId: guidOf('alice'), email: 'alice@example.test', displayName: 'Alice Anderson', status: 'active', attributes: { ldapDn: adUserDn(AD_USERS.alice) } });
    // userAccountControl 514 (ACCOUNTDISABLE): the account is disabled in the tenant directory too.
    expect(await user('dave')).toMatchObject({ status: 'disabled' });
    // staff holds engineering as a group; alice is in all-staff through two levels.
    const staff = (await store.groups.list()).find((g) => g.name.toLowerCase() === AD_GROUP_DNS.staff.toLowerCase())!;
    const engineering = (await store.groups.list()).find((g) => g.name.toLowerCase() === AD_GROUP_DNS.engineering.toLowerCase())!;
    expect(await store.groups.members(staff.id)).toEqual(expect.arrayContaining([{ type: 'group', id: engineering.id }]));
    const alice = (await user('alice'))!;
    expect((await store.groups.effectiveGroupsOfUser(alice.id)).map((g) => g.displayName).sort()).toEqual(['admins', 'all-staff', 'engineering', 'staff']);
  });

  it('an incremental run reads only what changed since the DC\'s USN mark', async () => {
    await ad.asAdmin(async (c) => {
      await c.modify(adUserDn(AD_USERS.bob), new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['robert@example.test'] }) }));
      // Disabled by an administrator at the directory.
      await c.modify(adUserDn(AD_USERS.carol), new Change({ operation: 'replace', modification: new Attribute({ type: 'userAccountControl', values: ['514'] }) }));
      await c.add(`CN=Hank Hill,${AD_PEOPLE}`, {
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        sAMAccountName: 'hank',
        userPrincipalName: 'hank@example.test',
        givenName: 'Hank',
        sn: 'Hill',
        mail: 'hank@example.test',
        userAccountControl: '514',
      });
      await c.modify(AD_GROUP_DNS.engineering, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [`CN=Hank Hill,${AD_PEOPLE}`] }) }));
    });
    const r = await run();
    expect(r).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(r.markBefore).toMatch(/^uSNChanged > \d+/);
    // Only the changed entries were read: bob, carol, hank (and the group engineering).
    expect(r.report.users.read).toBe(3);
    expect(r.report.groups.read).toBe(1);
    expect(await user('bob')).toMatchObject({ email: 'robert@example.test' });
    expect(await user('carol')).toMatchObject({ status: 'disabled' });
    const hank = (await user('hank'))!;
    expect(hank).toMatchObject({ externalId: guidOf('hank'), status: 'disabled' });
    expect((await store.groups.effectiveGroupsOfUser(hank.id)).map((g) => g.displayName).sort()).toEqual(['all-staff', 'engineering', 'staff']);
    // A run with nothing new reads nothing.
    const quiet = await run();
    expect(quiet.report.users.read + quiet.report.groups.read).toBe(0);
  });
});
