import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { applyDeclarations } from '../../src/config/apply-declarations.js';
import { bindPasswordContext } from '../../src/connectors/ldap/ldap-connection-service.js';
import type { Services } from '../../src/services.js';
import { createTestServices, type TestServices } from '../helpers/services.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

/** LDAP connections as stored and managed: validation, sealing, audit, revision, declarations. */
function connectionManagement(name: string, open: () => Promise<{ t: TestServices; cleanup(): Promise<void> }>) {
  describe(`LDAP connection management (${name})`, () => {
    const operator = { type: 'operator' as const, id: 'test' };
    let t: TestServices;
    let s: Services;
    let cleanup: () => Promise<void>;
    const revision = async (tenant: string) => (await s.tenants.get(tenant)).revision;
    const input = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      preset: 'active-directory' as const,
      servers: ['ldaps://dc1.corp.example', 'ldaps://dc2.corp.example:3269'],
      baseDn: 'DC=corp,DC=example',
      bindDn: 'svc@corp.example',
      bindPassword: 'S3rvice-Pa55!',
      ...extra,
    });

    beforeAll(async () => {
      ({ t, cleanup } = await open());
      s = t.services;
      for (const id of ['acme', 'other']) await s.tenants.create({ id, displayName: id }, operator);
    });
    afterAll(async () => cleanup());

    it('creates a connection with the password sealed, audited and the revision bumped', async () => {
      const store = s.store.forTenant('acme');
      const before = await revision('acme');
      const created = await s.ldap.create(store, input('corp-ad'), operator);
      expect(created).toMatchObject({ id: 'corp-ad', displayName: 'corp-ad', position: 1, enabled: true, hasBindPassword: true, settings: { preset: 'active-directory' } });
      expect(await revision('acme')).toBe(before + 1);
      const [event] = await store.audit.list({ action: 'ldap.connection_created' });
      expect(event).toMatchObject({ actorType: 'operator', targetId: 'corp-ad', outcome: 'success', details: { servers: ['ldaps://dc1.corp.example', 'ldaps://dc2.corp.example:3269'], bindDn: 'svc@corp.example' } });
      const row = await store.ldapConnections.get('corp-ad');
      expect(JSON.stringify(row)).not.toContain('S3rvice-Pa55!');
      expect(JSON.stringify(await store.audit.list())).not.toContain('S3rvice-Pa55!');
      expect(s.ldap.bindPassword(store, row!)).toBe('S3rvice-Pa55!');
      // Sealed for acme/corp-ad: it does not open for another tenant or connection.
      expect(() => s.box.open(row!.bindPasswordSealed!, bindPasswordContext('other', 'corp-ad'))).toThrow('integrity');
      expect(() => s.box.open(row!.bindPasswordSealed!, bindPasswordContext('acme', 'corp-ad2'))).toThrow('integrity');
    });

    it('refuses duplicates and invalid settings, and reports missing connections', async () => {
      const store = s.store.forTenant('acme');
      await expect(s.ldap.create(store, input('corp-ad'), operator)).rejects.toMatchObject({ code: 'ldap.connection_exists', status: 409 });
      await expect(s.ldap.create(store, input('bad', { servers: ['ldap://dc1'], baseDn: 'x' }), operator)).rejects.toMatchObject({ code: 'ldap.invalid_settings', status: 400 });
      await expect(s.ldap.create(store, input('Bad_Id'), operator)).rejects.toMatchObject({ code: 'ldap.invalid_settings' });
      await expect(s.ldap.get(store, 'nope')).rejects.toMatchObject({ code: 'ldap.connection_not_found', status: 404 });
      await expect(s.ldap.get(s.store.forTenant('other'), 'corp-ad')).rejects.toMatchObject({ code: 'ldap.connection_not_found' });
    });

    it('updates, orders, and removes connections, each change audited with the revision bumped', async () => {
      const store = s.store.forTenant('acme');
      await s.ldap.create(store, input('second', { preset: 'openldap', bindDn: 'cn=svc,dc=corp,dc=example', position: 0 }), operator);
      expect((await s.ldap.list(store)).map((c) => c.id)).toEqual(['second', 'corp-ad']);
      const before = await revision('acme');
      const updated = await s.ldap.update(store, 'corp-ad', { position: 0, groups: { nested: 'none' }, bindPassword: 'N3w-Pa55!' }, operator);
      expect(updated.settings.groups).toMatchObject({ mode: 'memberOf', nested: 'none' });
      expect(await revision('acme')).toBe(before + 1);
      expect(s.ldap.bindPassword(store, (await store.ldapConnections.get('corp-ad'))!)).toBe('N3w-Pa55!');
      const [event] = await store.audit.list({ action: 'ldap.connection_updated' });
      expect(event!.details).toMatchObject({ changed: ['position', 'bindPassword', 'groups'] });
      expect(JSON.stringify(event)).not.toContain('N3w-Pa55!');
      expect((await s.ldap.list(store)).map((c) => c.id)).toEqual(['corp-ad', 'second']);
      await s.ldap.remove(store, 'second', operator);
      expect(await revision('acme')).toBe(before + 2);
      expect((await store.audit.list({ action: 'ldap.connection_removed' }))[0]).toMatchObject({ targetId: 'second' });
      await expect(s.ldap.remove(store, 'second', operator)).rejects.toMatchObject({ code: 'ldap.connection_not_found' });
    });

    it('applies connections declared in configuration idempotently, the password read from the environment', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'gh-ldap-decl-'));
      const file = path.join(dir, 'gatehouse.yaml');
      writeFileSync(
        file,
        [
          'tenants:',
          '  - id: declared',
          '    displayName: Declared',
          '    ldap:',
          '      - id: corp',
          '        preset: openldap',
          '        servers: [ldaps://ldap1.corp.example, ldap://ldap2.corp.example]',
          '        baseDn: dc=corp,dc=example',
          '        bindDn: cn=svc,dc=corp,dc=example',
          '        bindPassword: ${CORP_LDAP_PASSWORD}',
          '        roles: [{ group: "cn=admins,ou=groups,dc=corp,dc=example", role: admin }]',
        ].join('\n'),
      );
      try {
        const declare = async (password: string) => applyDeclarations(s, loadConfig({ file, env: { CORP_LDAP_PASSWORD: password } }).tenants);
        expect((await declare('first'))[0]).toMatchObject({ created: true, changes: ['ldap corp created'] });
        const store = s.store.forTenant('declared');
        const rev = await revision('declared');
        expect((await declare('first'))[0]!.changes).toEqual([]);
        expect(await revision('declared')).toBe(rev);
        expect((await declare('second'))[0]!.changes).toEqual(['ldap corp updated']);
        expect(s.ldap.bindPassword(store, (await store.ldapConnections.get('corp'))!)).toBe('second');
        expect((await s.ldap.get(store, 'corp')).settings).toMatchObject({ declared: true, servers: ['ldaps://ldap1.corp.example', 'ldap://ldap2.corp.example'] });
        const invalid = path.join(dir, 'bad.yaml');
        writeFileSync(invalid, ['tenants:', '  - id: declared', '    displayName: D', '    ldap:', '      - id: corp', '        servers: [http://x]', '        baseDn: nope'].join('\n'));
        expect(() => loadConfig({ file: invalid, env: {} })).toThrow(/tenants\.0\.ldap\.0\.servers\.0: "http:\/\/x" must start with ldaps:\/\/ or ldap:\/\/[\s\S]*tenants\.0\.ldap\.0\.baseDn: is not a valid distinguished name/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

connectionManagement('SQLite', async () => {
  const t = await createTestServices();
  return { t, cleanup: () => t.close() };
});

describeWhen(await postgresAvailable(), 'LDAP connections on PostgreSQL', () => {
  let database: TestDatabase;
  connectionManagement('PostgreSQL', async () => {
    database = await createTestDatabase();
    const t = await createTestServices({ overrides: { database: { url: database.url } } });
    return {
      t,
      async cleanup() {
        await t.close();
        await database.drop();
      },
    };
  });
});
