import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logging/logger.js';
import { linkExternalIdentity } from '../../src/directory/identity-linker.js';
import type { PasswordCheckResult, ExternalIdentity } from '../../src/connectors/connector.js';
import type { LdapPasswordConnector } from '../../src/connectors/ldap/ldap-password-connector.js';
import { userFilter } from '../../src/connectors/ldap/ldap-user-search.js';
import { resolveNewSettings, parseConnectionInput, type LdapConnectionInput } from '../../src/connectors/ldap/ldap-settings.js';
import { directoryUnavailable } from '../../src/connectors/ldap/ldap-errors.js';
import type { TenantStore } from '../../src/store/tenant-store.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { slapdAvailable, startSlapd, type Slapd } from '../helpers/slapd.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { openldapConnection } from '../helpers/ldap-connections.js';
import { freePort } from '../helpers/free-port.js';
import { GROUP_DNS, TRICKY_UID, USERS, entryUuidFor } from '../fixtures/ldap/openldap-directory.js';

/**
 * Sign-in with directory passwords against real OpenLDAP servers (no browser: the connector the
 * sign-in page calls). Two slapd processes hold the same directory (replicas) for failover.
 */
describeWhen(slapdAvailable(), 'LDAP sign-in against OpenLDAP (slapd)', () => {
  const TENANT = 'acme';
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const operator = { type: 'operator' as const, id: 'test' };
  let dir: string;
  let ca: TestCa;
  let untrustedCa: TestCa;
  let primary: Slapd;
  let secondary: Slapd;
  let t: TestServices;
  let store: TenantStore;

  const connectors = async (): Promise<Map<string, LdapPasswordConnector>> => {
    const tenant = await t.services.tenants.get(TENANT);
    return new Map((await t.services.ldapConnectors.connectorsFor(tenant, store)).map((c) => [c.id, c]));
  };
  const connector = async (id: string) => (await connectors()).get(id)!;
  const addConnection = async (input: LdapConnectionInput) => t.services.ldap.create(store, input, operator);
  const signIn = async (id: string, username: string, password: string): Promise<PasswordCheckResult> =>
    (await connector(id)).checkPassword(username, password, { tenantId: TENANT, logger: silentLogger() });
  const identityOf = (result: PasswordCheckResult): ExternalIdentity => {
    if (!result.ok) throw new Error(`sign-in failed: ${result.reason} (${result.detail})`);
    return result.identity;
  };
  /** Simple binds as this DN that reached the server (slapd's stats log: one "method=128" line per bind request). */
  const bindsOf = (server: Slapd, dn: string) => server.log().split('\n').filter((l) => l.includes(`BIND dn="${dn}" method=128`)).length;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-ldap-'));
    ca = createTestCa(path.join(dir, 'ca'));
    untrustedCa = createTestCa(path.join(dir, 'other-ca'), 'Untrusted Test CA');
    [primary, secondary] = await Promise.all([startSlapd({ ca, name: 'slapd-a' }), startSlapd({ ca, name: 'slapd-b' })]);
    t = await createTestServices({ clock });
    await t.services.tenants.create({ id: TENANT, displayName: 'Acme' }, operator);
    store = t.services.store.forTenant(TENANT);
    await addConnection(openldapConnection('corp', [primary.ldapsUrl], primary, ca));
    await addConnection(openldapConnection('corp-starttls', [primary.ldapUrl], primary, ca));
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([primary?.destroy(), secondary?.destroy()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('sign-in', () => {
    it('returns the person with the mapped claims, anchored on entryUUID, and groups by DN with nesting resolved', async () => {
      const identity = identityOf(await signIn('corp', 'alice', USERS.alice.password));
      expect(identity).toMatchObject({
        source: 'ldap:corp',
        externalId: entryUuidFor(USERS.alice.dn),
        username: 'alice',
        email: 'alice@example.com',
        emailVerified: true,
        givenName: 'Alice',
        familyName: 'Anderson',
        displayName: 'Alice Anderson',
        phone: '+1 555 0100',
        roles: ['admin'],
        authentication: { amr: ['pwd'] },
      });
      // admins and engineering directly; staff through engineering; all-staff through staff (two levels).
      expect(identity.groups.map((g) => g.name).sort()).toEqual([GROUP_DNS.admins, GROUP_DNS.allStaff, GROUP_DNS.engineering, GROUP_DNS.staff].sort());
      for (const g of identity.groups) expect(g.externalId).toBe(entryUuidFor(g.name));
      expect(identity.groups.find((g) => g.name === GROUP_DNS.staff)?.displayName).toBe('staff');
    });

    it('keeps two groups named "admins" in different OUs apart (and maps the role by DN only)', async () => {
      const bob = identityOf(await signIn('corp', 'bob', USERS.bob.password));
      expect(bob.groups.map((g) => g.name)).toContain(GROUP_DNS.contractorAdmins);
      expect(bob.groups.map((g) => g.name)).not.toContain(GROUP_DNS.admins);
      expect(bob.roles).toEqual([]);
      const alice = identityOf(await signIn('corp', 'alice', USERS.alice.password));
      const a = alice.groups.find((g) => g.displayName === 'admins')!;
      const b = bob.groups.find((g) => g.displayName === 'admins')!;
      expect(a.externalId).not.toBe(b.externalId);
      // Linked into the tenant directory, they stay two groups.
      const linkedAlice = await linkExternalIdentity(store, alice);
      const linkedBob = await linkExternalIdentity(store, bob);
      const groupsOf = async (userId: string) => (await store.groups.effectiveGroupsOfUser(userId)).map((g) => g.name).sort();
      expect(await groupsOf(linkedAlice.user.id)).toContain(GROUP_DNS.admins);
      expect(await groupsOf(linkedBob.user.id)).toContain(GROUP_DNS.contractorAdmins);
      const admins = (await store.groups.list()).filter((g) => g.displayName === 'admins');
      expect(admins.map((g) => g.name).sort()).toEqual([GROUP_DNS.admins, GROUP_DNS.contractorAdmins].sort());
    });

    it('handles non-ASCII names, also in the DN, and ends a loop of nested groups', async () => {
      const carol = identityOf(await signIn('corp', 'carol', USERS.carol.password));
      expect(carol).toMatchObject({ familyName: 'Müller', displayName: 'Carol Müller' });
      expect(carol.groups.map((g) => g.name).sort()).toEqual([GROUP_DNS.allStaff, GROUP_DNS.staff].sort());
      const zoe = identityOf(await signIn('corp', 'zoe', USERS.zoe.password));
      expect(zoe).toMatchObject({ givenName: 'Zoë', familyName: 'Ñúñez', externalId: entryUuidFor(USERS.zoe.dn), attributes: { ldapDn: USERS.zoe.dn } });
      expect(zoe.groups.map((g) => g.name).sort()).toEqual([GROUP_DNS.loopA, GROUP_DNS.loopB].sort());
    });

    it('works over StartTLS (ldap://) as over ldaps://, and StartTLS is really negotiated', async () => {
      const before = primary.log().split('\n').filter((l) => l.includes('oid=1.3.6.1.4.1.1466.20037')).length;
      expect(identityOf(await signIn('corp-starttls', 'alice', USERS.alice.password)).externalId).toBe(entryUuidFor(USERS.alice.dn));
      const after = primary.log().split('\n').filter((l) => l.includes('oid=1.3.6.1.4.1.1466.20037')).length;
      expect(after).toBeGreaterThan(before);
    });
  });

  describe('refusals', () => {
    it('refuses a wrong password', async () => {
      expect(await signIn('corp', 'alice', 'wrong')).toMatchObject({ ok: false, reason: 'invalid_credentials' });
    });

    it('refuses an empty password before any bind reaches the directory', async () => {
      const before = bindsOf(primary, USERS.alice.dn);
      expect(await signIn('corp', 'alice', '')).toEqual({ ok: false, reason: 'invalid_credentials', detail: 'empty password refused before any bind' });
      expect(bindsOf(primary, USERS.alice.dn)).toBe(before);
    });

    it('refuses a disabled user with the precise reason, without trying the password', async () => {
      const before = bindsOf(primary, USERS.dave.dn);
      const result = await signIn('corp', 'dave', USERS.dave.password);
      expect(result).toMatchObject({ ok: false, reason: 'account_disabled' });
      expect((result as { detail: string }).detail).toContain('pwdAccountLockedTime 000001010000Z');
      expect(bindsOf(primary, USERS.dave.dn)).toBe(before);
    });

    it('refuses a locked-out user (ppolicy) as locked', async () => {
      const result = await signIn('corp', 'frank', USERS.frank.password);
      expect(result).toMatchObject({ ok: false, reason: 'account_locked' });
      expect((result as { detail: string }).detail).toContain('pwdAccountLockedTime 20260101000000Z');
    });

    it('makes filter injection impossible: metacharacters are matched literally', async () => {
      const settings = resolveNewSettings(parseConnectionInput(openldapConnection('x', [primary.ldapsUrl], primary, ca)));
      expect(userFilter(settings, '*)(uid=*))(|(uid=*').toString()).toBe('(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a))');
      for (const typed of ['*', '*)(uid=*))(|(uid=*', 'alice)(uid=*', 'a*', '*)(objectClass=*', 'tricky*']) {
        expect(await signIn('corp', typed, USERS.alice.password)).toMatchObject({ ok: false, reason: 'unknown_user' });
      }
      // ... and the person whose name is made of them signs in with exactly that name.
      expect(identityOf(await signIn('corp', TRICKY_UID, USERS.tricky.password)).username).toBe(TRICKY_UID);
    });

    it('answers unknown_user for somebody not in the directory, so the sign-in tries the next connector', async () => {
      expect(await signIn('corp', 'nobody', 'whatever')).toMatchObject({ ok: false, reason: 'unknown_user' });
    });
  });

  describe('TLS', () => {
    it('refuses a server whose certificate comes from a CA it was not told to trust', async () => {
      await addConnection(openldapConnection('untrusted', [primary.ldapsUrl], primary, untrustedCa));
      await addConnection(openldapConnection('untrusted-starttls', [primary.ldapUrl], primary, untrustedCa));
      await addConnection(openldapConnection('system-cas', [primary.ldapsUrl], primary, ca, { tls: { caCertificates: [] } }));
      for (const id of ['untrusted', 'untrusted-starttls', 'system-cas']) {
        const result = await signIn(id, 'alice', USERS.alice.password);
        expect(result).toMatchObject({ ok: false, reason: 'directory_unavailable' });
        expect((result as { detail: string }).detail).toMatch(/TLS refused: .*(not issued by a trusted CA|not trusted|self-signed)/);
      }
    });

    it('refuses a certificate that does not name the server', async () => {
      await addConnection(openldapConnection('wrong-name', [primary.ldapsUrl], primary, ca, { tls: { caCertificates: [ca.certPem], serverName: 'ldap.elsewhere.example' } }));
      const result = await signIn('wrong-name', 'alice', USERS.alice.password);
      expect(result).toMatchObject({ ok: false, reason: 'directory_unavailable' });
      expect((result as { detail: string }).detail).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    });
  });

  describe('resilience', () => {
    it('fails over to the next server within 2 seconds and comes back to the first one when it returns', async () => {
      await addConnection(openldapConnection('replicated', [primary.ldapsUrl, secondary.ldapsUrl], primary, ca, { serverRetryMs: 30_000 }));
      expect(identityOf(await signIn('replicated', 'alice', USERS.alice.password)).externalId).toBe(entryUuidFor(USERS.alice.dn));
      await primary.stop();
      try {
        const started = Date.now();
        const identity = identityOf(await signIn('replicated', 'alice', USERS.alice.password));
        expect(Date.now() - started).toBeLessThan(2000);
        expect(identity.externalId).toBe(entryUuidFor(USERS.alice.dn));
        const pool = (await connector('replicated')).pool;
        expect(pool.status()).toMatchObject([{ server: primary.ldapsUrl, up: false }, { server: secondary.ldapsUrl, up: true }]);
      } finally {
        await primary.start();
      }
      // Back, but still inside its retry period: the secondary keeps serving.
      const bindsBefore = bindsOf(primary, USERS.alice.dn);
      identityOf(await signIn('replicated', 'alice', USERS.alice.password));
      expect(bindsOf(primary, USERS.alice.dn)).toBe(bindsBefore);
      // After it, the primary is preferred again: it serves even with the secondary gone.
      clock.advance(31_000);
      await secondary.stop();
      try {
        identityOf(await signIn('replicated', 'alice', USERS.alice.password));
        expect(bindsOf(primary, USERS.alice.dn)).toBe(bindsBefore + 1);
        expect((await connector('replicated')).pool.status()[0]).toMatchObject({ up: true });
      } finally {
        await secondary.start();
      }
    });

    it('fails over as fast with StartTLS servers, whose pooled connections die with the server', async () => {
      await addConnection(openldapConnection('replicated-starttls', [primary.ldapUrl, secondary.ldapUrl], primary, ca));
      identityOf(await signIn('replicated-starttls', 'bob', USERS.bob.password));
      expect((await connector('replicated-starttls')).pool.idleCount).toBe(1);
      await primary.stop();
      try {
        const started = Date.now();
        expect(identityOf(await signIn('replicated-starttls', 'bob', USERS.bob.password)).username).toBe('bob');
        expect(Date.now() - started).toBeLessThan(2000);
      } finally {
        await primary.start();
      }
    });

    it('skips a server that accepts connections but never completes TLS (ldaps or StartTLS), within 2 seconds', async () => {
      const sockets: Socket[] = [];
      const silent: Server = createServer((s) => sockets.push(s));
      const port = await freePort();
      await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
      try {
        await addConnection(openldapConnection('black-hole-ldaps', [`ldaps://127.0.0.1:${port}`, primary.ldapsUrl], primary, ca));
        await addConnection(openldapConnection('black-hole-starttls', [`ldap://127.0.0.1:${port}`, primary.ldapUrl], primary, ca));
        for (const id of ['black-hole-ldaps', 'black-hole-starttls']) {
          const started = Date.now();
          const identity = identityOf(await signIn(id, 'alice', USERS.alice.password));
          expect(Date.now() - started).toBeLessThan(2000);
          expect(identity.username).toBe('alice');
          expect((await connector(id)).pool.status()[0]).toMatchObject({ up: false, lastFailure: expect.stringMatching(/^no (connection|answer to StartTLS) within 1500 ms$/) });
        }
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });

    it('cuts off a server that stops answering (operation timeout)', async () => {
      await addConnection(openldapConnection('hung', [primary.ldapsUrl], primary, ca, { timeouts: { operationMs: 300 } }));
      identityOf(await signIn('hung', 'bob', USERS.bob.password));
      primary.pause();
      try {
        const started = Date.now();
        const result = await signIn('hung', 'bob', USERS.bob.password);
        expect(Date.now() - started).toBeLessThan(1000);
        expect(result).toMatchObject({ ok: false, reason: 'directory_unavailable' });
        expect((result as { detail: string }).detail).toBe(`all 1 server failed: ${primary.ldapsUrl} no answer to search within 300 ms`);
      } finally {
        primary.resume();
      }
    });

    it('answers directory_unavailable (a 503 for the sign-in) when every server is down', async () => {
      await Promise.all([primary.stop(), secondary.stop()]);
      try {
        const started = Date.now();
        const result = await signIn('replicated', 'alice', USERS.alice.password);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(result).toMatchObject({ ok: false, reason: 'directory_unavailable' });
        expect((result as { detail: string }).detail).toMatch(/^all 2 servers failed: .*ECONNREFUSED.*ECONNREFUSED/);
        expect(directoryUnavailable()).toMatchObject({ code: 'ldap.directory_unavailable', status: 503, expose: true });
      } finally {
        await Promise.all([primary.start(), secondary.start()]);
      }
      clock.advance(31_000);
      expect(identityOf(await signIn('replicated', 'alice', USERS.alice.password)).username).toBe('alice');
    });

    it('reuses service connections instead of binding again for every sign-in', async () => {
      const before = bindsOf(primary, primary.serviceDn);
      for (let i = 0; i < 5; i++) identityOf(await signIn('corp', 'bob', USERS.bob.password));
      // One service bind at most (a fresh pooled connection); the person binds on their own each time.
      expect(bindsOf(primary, primary.serviceDn) - before).toBeLessThanOrEqual(1);
      expect((await connector('corp')).pool.idleCount).toBeGreaterThanOrEqual(1);
    });
  });

  describe('group lookup modes', () => {
    it('reads groupOfUniqueNames, posixGroup and memberOf (walking nesting through memberOf)', async () => {
      await addConnection(openldapConnection('unique', [primary.ldapsUrl], primary, ca, { groups: { mode: 'groupOfUniqueNames', filter: '(objectClass=groupOfUniqueNames)', nested: 'none' } }));
      await addConnection(openldapConnection('posix', [primary.ldapsUrl], primary, ca, { groups: { mode: 'posixGroup', filter: '(objectClass=posixGroup)', nested: 'none' } }));
      await addConnection(openldapConnection('memberof', [primary.ldapsUrl], primary, ca, { groups: { mode: 'memberOf', nested: 'walk' } }));
      await addConnection(openldapConnection('flat', [primary.ldapsUrl], primary, ca, { groups: { nested: 'none' } }));
      const names = async (id: string) => identityOf(await signIn(id, 'alice', USERS.alice.password)).groups.map((g) => g.name).sort();
      expect(await names('unique')).toEqual([GROUP_DNS.auditors]);
      expect(await names('posix')).toEqual([GROUP_DNS.developers]);
      expect(await names('memberof')).toEqual([GROUP_DNS.admins, GROUP_DNS.allStaff, GROUP_DNS.engineering, GROUP_DNS.staff].sort());
      expect(await names('flat')).toEqual([GROUP_DNS.admins, GROUP_DNS.engineering].sort());
    });
  });

  describe('renamed accounts', () => {
    it('keeps the subject of a renamed user: same entryUUID, same Gatehouse user, new username', async () => {
      const before = identityOf(await signIn('corp', 'erin', USERS.erin.password));
      const first = await linkExternalIdentity(store, before);
      expect(first.created).toBe(true);
      const renamedDn = USERS.erin.dn.replace('uid=erin', 'uid=erin.smith');
      await primary.asAdmin((admin) => admin.modifyDN(USERS.erin.dn, 'uid=erin.smith'));
      try {
        expect(await signIn('corp', 'erin', USERS.erin.password)).toMatchObject({ ok: false, reason: 'unknown_user' });
        const after = identityOf(await signIn('corp', 'erin.smith', USERS.erin.password));
        expect(after.externalId).toBe(before.externalId);
        expect(after.attributes).toEqual({ ldapDn: renamedDn });
        const second = await linkExternalIdentity(store, after);
        expect(second.created).toBe(false);
        expect(second.user.id).toBe(first.user.id);
        expect(second.user.username).toBe('erin.smith');
      } finally {
        await primary.asAdmin((admin) => admin.modifyDN(renamedDn, 'uid=erin'));
      }
    });
  });

  describe('connector source', () => {
    it('caches connectors per tenant revision and replaces only what changed, closing the old pool', async () => {
      const first = await connectors();
      expect(await connectors()).toEqual(first);
      const corp = first.get('corp')!;
      const starttls = first.get('corp-starttls')!;
      await t.services.ldap.update(store, 'corp-starttls', { timeouts: { operationMs: 4000 } }, operator);
      const second = await connectors();
      expect(second.get('corp')).toBe(corp);
      expect(second.get('corp-starttls')).not.toBe(starttls);
      expect(starttls.pool.idleCount).toBe(0);
      await expect(starttls.pool.withService(async () => 1)).rejects.toThrow('closed');
      // The order is the configured order; a disabled connection is not offered.
      await t.services.ldap.update(store, 'corp', { enabled: false }, operator);
      expect((await connectors()).has('corp')).toBe(false);
      await t.services.ldap.update(store, 'corp', { enabled: true }, operator);
      expect([...(await connectors()).keys()].slice(0, 2)).toEqual(['corp', 'corp-starttls']);
    });
  });
});
