import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { describeWhen } from '../helpers/requirements.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { slapdAvailable, startSlapd, type Slapd } from '../helpers/slapd.js';
import { freePort } from '../helpers/free-port.js';
import { GROUP_DNS, USERS } from '../fixtures/ldap/openldap-directory.js';

/** `gatehouse ldap add|list|show|update|remove|test`, each call its own process, against a real slapd. */
describeWhen(slapdAvailable(), 'gatehouse ldap (CLI)', () => {
  let dir: string;
  let ca: TestCa;
  let slapd: Slapd;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) => runCli(args, { env, input });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-ldap-cli-'));
    ca = createTestCa(path.join(dir, 'ca'));
    slapd = await startSlapd({ ca, name: 'slapd-cli' });
    env = { DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent' };
    expect((await cli(['tenant', 'create', 'acme', '--name', 'Acme'])).code).toBe(0);
  });
  afterAll(async () => {
    await slapd?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('adds a connection with a preset from hosts, base DN and service account; the password read from stdin and never shown', async () => {
    const added = await cli(
      [
        'ldap', 'add', 'acme', 'corp', '--preset', 'openldap', '--server', slapd.ldapsUrl, '--server', slapd.ldapUrl,
        '--base-dn', slapd.baseDn, '--bind-dn', slapd.serviceDn, '--bind-password-stdin', '--ca-file', ca.certPath,
        '--role', `${GROUP_DNS.admins}=admin`, '--json',
      ],
      `${slapd.servicePassword}\n`,
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.json()).toMatchObject({
      id: 'corp',
      position: 1,
      enabled: true,
      preset: 'openldap',
      servers: [slapd.ldapsUrl, slapd.ldapUrl],
      hasBindPassword: true,
      tls: { caCertificates: [{ subject: expect.stringContaining('CN=Gatehouse Test CA') }] },
      roles: [{ group: GROUP_DNS.admins, role: 'admin' }],
      attributes: { id: 'entryUUID' },
    });
    expect(added.stdout).not.toContain(slapd.servicePassword);
    const db = new BetterSqlite3(path.join(dir, 'gh.db'), { readonly: true });
    const everything = JSON.stringify(db.prepare('SELECT * FROM ldap_connections').all()) + JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
    db.close();
    expect(everything).toContain('corp');
    expect(everything).not.toContain(slapd.servicePassword);

    const list = await cli(['ldap', 'list', 'acme']);
    expect(list.stdout).toMatch(/ID\s+POSITION\s+ENABLED\s+PRESET\s+SERVERS\s+NAME\ncorp\s+1\s+yes\s+openldap/);
    const show = await cli(['ldap', 'show', 'acme', 'corp']);
    expect(show.stdout).toMatch(/bindDn\s+cn=svc,dc=example,dc=com/);
    expect(show.stdout).toMatch(/hasBindPassword\s+true/);
  });

  it('refuses bad input with exit code 2 and says what is wrong; warns loudly about plaintext', async () => {
    const bad = await cli(['ldap', 'add', 'acme', 'bad', '--server', 'https://dc1', '--base-dn', 'nope', '--bind-dn', 'cn=svc,dc=x', '--set', 'users.filter=uid=*', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json()).toMatchObject({ error: 'ldap.invalid_settings' });
    for (const problem of ['servers.0: "https://dc1" must start with ldaps:// or ldap://', 'baseDn: is not a valid distinguished name', 'users.filter: is not an LDAP search filter']) {
      expect(bad.json().message).toContain(problem);
    }
    const plain = await cli(['ldap', 'add', 'acme', 'plain', '--server', 'ldap://ldap.internal', '--base-dn', 'dc=x', '--bind-dn', 'cn=svc,dc=x', '--dangerously-allow-plaintext', '--disable']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('WARNING: plaintext LDAP allowed');
  });

  it('tests each server in turn, step by step with timings', async () => {
    const ok = await cli(['ldap', 'test', 'acme', 'corp', '--user', 'alice']);
    expect(ok.code).toBe(0);
    for (const step of ['reachability', 'tls', 'service bind', 'user search', 'group lookup']) expect(ok.stdout).toMatch(new RegExp(`ok\\s+${step}\\s+\\d+ ms`));
    expect(ok.stdout).toContain(`${slapd.ldapsUrl} (ldaps)`);
    expect(ok.stdout).toContain(`${slapd.ldapUrl} (starttls)`);
    expect(ok.stdout).toContain(USERS.alice.dn);
    expect(ok.stdout).toContain('4 groups (2 through nesting)');
    expect(ok.stdout).toContain('corp: all 2 servers passed');
  });

  it('updates only what is given, and the test then shows the failing server and exits 1', async () => {
    const dead = `ldaps://127.0.0.1:${await freePort()}`;
    const updated = await cli(['ldap', 'update', 'acme', 'corp', '--server', dead, '--server', slapd.ldapsUrl, '--set', 'groups.nested=none', '--set', 'timeouts.connectMs=1000', '--name', 'Corporate directory', '--json']);
    expect(updated.code).toBe(0);
    expect(updated.json()).toMatchObject({
      displayName: 'Corporate directory',
      servers: [dead, slapd.ldapsUrl],
      groups: { nested: 'none', mode: 'groupOfNames' },
      timeouts: { connectMs: 1000, operationMs: 5000 },
      hasBindPassword: true,
      roles: [{ group: GROUP_DNS.admins, role: 'admin' }],
    });
    const failing = await cli(['ldap', 'test', 'acme', 'corp', '--json']);
    expect(failing.code).toBe(1);
    const report = failing.json();
    expect(report.ok).toBe(false);
    expect(report.servers[0].steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'reachability:failed',
      'tls:skipped',
      'service bind:skipped',
      'user search:skipped',
      'group lookup:skipped',
    ]);
    expect(report.servers[0].steps[0].detail).toBe('cannot connect (ECONNREFUSED)');
    expect(report.servers[1]).toMatchObject({ server: slapd.ldapsUrl, ok: true });
    expect(report.servers[1].steps[3]).toMatchObject({ step: 'user search', status: 'ok' });
    expect(report.servers[1].steps[4]).toMatchObject({ step: 'group lookup', status: 'skipped', detail: 'no --user given' });
  });

  it('removes a connection', async () => {
    const removed = await cli(['ldap', 'remove', 'acme', 'corp', '--json']);
    expect(removed.json()).toEqual({ removed: 'corp' });
    expect((await cli(['ldap', 'list', 'acme', '--json'])).json().map((c: { id: string }) => c.id)).toEqual(['plain']);
  });
});
