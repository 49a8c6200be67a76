import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logging/logger.js';
import { linkExternalIdentity } from '../../src/directory/identity-linker.js';
import type { ExternalIdentity, PasswordCheckResult } from '../../src/connectors/connector.js';
import type { LdapConnectionInput } from '../../src/connectors/ldap/ldap-settings.js';
import type { TenantStore } from '../../src/store/tenant-store.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { sambaAvailable, startSambaAd, type SambaAd } from '../helpers/samba-ad.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { AD_GROUP_DNS, AD_LOCKOUT_THRESHOLD, AD_USERS, adUpn, adUserDn } from '../fixtures/ldap/active-directory-directory.js';

/**
 * Sign-in against a real Active Directory domain controller (Samba AD DC), over LDAPS with a
 * certificate from the test CA, with the "active-directory" preset: the admin gives only the
 * server, the base DN and the service account.
 */
describeWhen(sambaAvailable(), 'LDAP sign-in against Active Directory (Samba AD DC)', () => {
  const TENANT = 'globex';
  const clock = new ManualClock(Date.now());
  const operator = { type: 'operator' as const, id: 'test' };
  let dir: string;
  let ca: TestCa;
  let ad: SambaAd;
  let t: TestServices;
  let store: TenantStore;

  const adConnection = (id: string, extra: Partial<LdapConnectionInput> = {}): LdapConnectionInput => ({
    id,
    preset: 'active-directory',
    servers: [ad.ldapsUrl],
    baseDn: ad.baseDn,
    bindDn: ad.serviceUpn,
    bindPassword: ad.servicePassword,
    tls: { caCertificates: [ca.certPem] },
    // Written in lowercase on purpose: group DNs are compared as DNs, not as strings.
    roles: [{ group: 'cn=admins,ou=groups,dc=example,dc=test', role: 'admin' }],
    ...extra,
  });
  const signIn = async (id: string, username: string, password: string): Promise<PasswordCheckResult> => {
    const tenant = await t.services.tenants.get(TENANT);
    const connector = (await t.services.ldapConnectors.connectorsFor(tenant, store)).find((c) => c.id === id)!;
    return connector.checkPassword(username, password, { tenantId: TENANT, logger: silentLogger() });
  };
  const identityOf = (result: PasswordCheckResult): ExternalIdentity => {
    if (!result.ok) throw new Error(`sign-in failed: ${result.reason} (${result.detail})`);
    return result.identity;
  };
  /** objectGUID as Samba's own tool prints it: independent of Gatehouse's GUID formatting. */
  const guidOf = (sAMAccountName: string) => /objectGUID: ([0-9a-f-]{36})/.exec(ad.sambaTool(['user', 'show', sAMAccountName, '--attributes=objectGUID']))![1]!;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-ad-'));
    ca = createTestCa(path.join(dir, 'ca'));
    ad = await startSambaAd({ ca });
    t = await createTestServices({ clock });
    await t.services.tenants.create({ id: TENANT, displayName: 'Globex' }, operator);
    store = t.services.store.forTenant(TENANT);
    await t.services.ldap.create(store, adConnection('corp-ad'), operator);
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await ad?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs in by sAMAccountName and by userPrincipalName, anchored on objectGUID', async () => {
    const bySam = identityOf(await signIn('corp-ad', 'alice', AD_USERS.alice.password));
    const byUpn = identityOf(await signIn('corp-ad', adUpn(AD_USERS.alice), AD_USERS.alice.password));
    expect(bySam.externalId).toBe(guidOf('alice'));
    expect(byUpn.externalId).toBe(bySam.externalId);
    expect(bySam).toMatchObject({
      source: 'ldap:corp-ad',
      username: 'alice',
      email: 'alice@example.test',
      givenName: 'Alice',
      familyName: 'Anderson',
      displayName: 'Alice Anderson',
      phone: '+1 555 0200',
      roles: ['admin'],
      authentication: { amr: ['pwd'] },
    });
    expect(byUpn.username).toBe('alice');
    // Both sign-ins are the same person in the tenant directory.
    const first = await linkExternalIdentity(store, bySam);
    const second = await linkExternalIdentity(store, byUpn);
    expect(second.user.id).toBe(first.user.id);
  });

  it('resolves nested groups through the in-chain matching rule, identified by DN and objectGUID', async () => {
    const alice = identityOf(await signIn('corp-ad', 'alice', AD_USERS.alice.password));
    // admins, engineering directly; staff through engineering; all-staff through staff.
    expect(alice.groups.map((g) => g.name.toLowerCase()).sort()).toEqual(
      [AD_GROUP_DNS.admins, AD_GROUP_DNS.allStaff, AD_GROUP_DNS.engineering, AD_GROUP_DNS.staff].map((d) => d.toLowerCase()).sort(),
    );
    for (const g of alice.groups) expect(g.externalId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const bob = identityOf(await signIn('corp-ad', 'bob', AD_USERS.bob.password));
    const bobGroups = bob.groups.map((g) => g.name.toLowerCase());
    expect(bobGroups).toContain(AD_GROUP_DNS.contractorAdmins.toLowerCase());
    expect(bobGroups).not.toContain(AD_GROUP_DNS.admins.toLowerCase());
    expect(bob.roles).toEqual([]);
    const carol = identityOf(await signIn('corp-ad', 'carol', AD_USERS.carol.password));
    expect(carol).toMatchObject({ familyName: 'Müller', attributes: { ldapDn: adUserDn(AD_USERS.carol) } });
    expect(carol.groups.map((g) => g.displayName).sort()).toEqual(['all-staff', 'staff']);
  });

  it('refuses a disabled account (userAccountControl 514) with the precise reason, before and at the bind', async () => {
    const result = await signIn('corp-ad', 'dave', AD_USERS.dave.password);
    expect(result).toEqual({ ok: false, reason: 'account_disabled', detail: `${adUserDn(AD_USERS.dave)}: userAccountControl 514 (0x202) has ACCOUNTDISABLE (0x2)` });
    // Without the pre-check, the DC's own answer (data 533) gives the same reason.
    await t.services.ldap.create(store, adConnection('no-precheck', { accountStatus: 'none' }), operator);
    const atBind = await signIn('no-precheck', 'dave', AD_USERS.dave.password);
    expect(atBind).toMatchObject({ ok: false, reason: 'account_disabled' });
    expect((atBind as { detail: string }).detail).toContain('AD data 533');
  });

  it('refuses a wrong password (AD data 52e)', async () => {
    const result = await signIn('corp-ad', 'bob', 'not-his-password');
    expect(result).toMatchObject({ ok: false, reason: 'invalid_credentials' });
    expect((result as { detail: string }).detail).toContain('AD data 52e');
  });

  it('refuses an account that has expired (accountExpires, read against the injected clock)', async () => {
    expect(identityOf(await signIn('corp-ad', 'frank', AD_USERS.frank.password)).username).toBe('frank');
    clock.advance(2 * 86_400_000);
    try {
      const result = await signIn('corp-ad', 'frank', AD_USERS.frank.password);
      expect(result).toMatchObject({ ok: false, reason: 'account_expired' });
      expect((result as { detail: string }).detail).toMatch(/accountExpires \d{4}-\d\d-\d\dT.* has passed/);
    } finally {
      clock.set(Date.now());
    }
  });

  it('refuses an account the DC has locked out (msDS-User-Account-Control-Computed 0x10)', async () => {
    const upn = adUpn(AD_USERS.grace);
    for (let i = 0; i < AD_LOCKOUT_THRESHOLD; i++) {
      const client = new Client({ url: ad.ldapsUrl, tlsOptions: { ca: [ca.certPem] } });
      await expect(client.bind(upn, 'wrong-password')).rejects.toThrow();
      await client.unbind().catch(() => {});
    }
    const result = await signIn('corp-ad', 'grace', AD_USERS.grace.password);
    expect(result).toMatchObject({ ok: false, reason: 'account_locked' });
    expect((result as { detail: string }).detail).toContain('LOCKOUT (0x10)');
  });

  it('uses LDAPS with the test CA, and refuses the DC when that CA is not trusted', async () => {
    await t.services.ldap.create(store, adConnection('untrusted', { tls: { caCertificates: [] } }), operator);
    const result = await signIn('untrusted', 'alice', AD_USERS.alice.password);
    expect(result).toMatchObject({ ok: false, reason: 'directory_unavailable' });
    expect((result as { detail: string }).detail).toContain('TLS refused');
  });

  it('passes every step of the connection check, naming the nested groups', async () => {
    const [server] = await t.services.ldap.check(store, 'corp-ad', { user: 'alice' });
    expect(server!.ok).toBe(true);
    expect(server!.steps.map((s) => [s.step, s.status])).toEqual([
      ['reachability', 'ok'],
      ['tls', 'ok'],
      ['service bind', 'ok'],
      ['user search', 'ok'],
      ['group lookup', 'ok'],
    ]);
    expect(server!.steps[3]!.detail).toContain(guidOf('alice'));
    expect(server!.steps[4]!.detail).toMatch(/^4 groups \(nesting resolved by the directory\)/);
  });
});
