import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';

/** The real `gatehouse` command, each call its own process, on a throwaway SQLite database. */
describe('gatehouse CLI', () => {
  let dir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env });

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-cli-'));
    env = { DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent' };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates, creates, lists, shows, suspends and resumes tenants', async () => {
    const migrate = await cli('migrate', '--json');
    expect(migrate.code).toBe(0);
    expect(migrate.json()).toEqual({ applied: MIGRATIONS.map((m) => m.name), pending: [] });

    const created = await cli('tenant', 'create', 'acme', '--name', 'Acme Corp', '--json');
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({ id: 'acme', displayName: 'Acme Corp', status: 'active', issuer: 'http://localhost:3000/t/acme' });

    expect((await cli('tenant', 'list', '--json')).json().map((t: { id: string }) => t.id)).toEqual(['acme']);
    expect((await cli('tenant', 'suspend', 'acme', '--json')).json()).toMatchObject({ status: 'suspended' });
    expect((await cli('tenant', 'resume', 'acme', '--json')).json()).toMatchObject({ status: 'active' });
    const human = await cli('tenant', 'show', 'acme');
    expect(human.stdout).toContain('issuer:    http://localhost:3000/t/acme');
  });

  it('refuses bad input with a clear message and a non-zero exit', async () => {
    const badId = await cli('tenant', 'create', 'Bad_Id', '--name', 'x');
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('invalid tenant id "Bad_Id"');
    const badJson = await cli('tenant', 'create', 'Bad_Id', '--name', 'x', '--json');
    expect(badJson.json()).toMatchObject({ error: 'tenant.invalid_id' });
    const missing = await cli('tenant', 'show', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no tenant "nope"');
    const dup = await cli('tenant', 'create', 'acme', '--name', 'again');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists');
    const usage = await cli('tenant', 'create', 'x');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--name <displayName>' not specified");
    const badClient = await cli('client', 'create', 'acme', '--type', 'public', '--grant', 'client_credentials', '--json');
    expect(badClient.code).toBe(2);
    expect(badClient.json().message).toContain('a public client cannot use client_credentials');
  });

  it('registers an API and a client whose secret is printed once and stored only as a digest', async () => {
    const api = await cli('resource', 'create', 'acme', 'https://api.acme.test', '--scope', 'read', '--scope', 'write', '--ttl', '300', '--json');
    expect(api.code).toBe(0);
    expect(api.json()).toMatchObject({ identifier: 'https://api.acme.test', scopes: ['read', 'write'], accessTokenTtl: 300, accessTokenFormat: 'jwt' });
    expect((await cli('resource', 'list', 'acme', '--json')).json()).toHaveLength(1);

    const created = await cli('client', 'create', 'acme', '--id', 'billing', '--grant', 'client_credentials', '--resource', 'https://api.acme.test=read', '--json');
    expect(created.code).toBe(0);
    const { clientSecret } = created.json();
    expect(Buffer.from(clientSecret, 'base64url').length).toBe(32);

    const shown = await cli('client', 'show', 'acme', 'billing', '--json');
    expect(shown.stdout).not.toContain(clientSecret);
    expect(shown.json()).toMatchObject({ clientId: 'billing', hasSecret: true, resources: [{ resource: 'https://api.acme.test', scopes: ['read'] }] });

    const db = new BetterSqlite3(path.join(dir, 'gh.db'), { readonly: true });
    const row = db.prepare(`SELECT secret_digest, config FROM clients WHERE client_id = 'billing'`).get() as { secret_digest: string; config: string };
    const everything = JSON.stringify(db.prepare('SELECT * FROM clients').all()) + JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
    db.close();
    expect(row.secret_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(everything).not.toContain(clientSecret);

    const unknownScope = await cli('client', 'create', 'acme', '--grant', 'client_credentials', '--resource', 'https://api.acme.test=admin');
    expect(unknownScope.code).toBe(2);
    expect(unknownScope.stderr).toContain('has no scope "admin"');
  });

  it('lists and rotates a tenant\'s keys', async () => {
    const before = (await cli('keys', 'list', 'acme', '--json')).json();
    expect(before.map((k: { alg: string; state: string }) => `${k.alg}:${k.state}`).sort()).toEqual(['ES256:active', 'RS256:active']);
    const rotated = await cli('keys', 'rotate', 'acme', '--json');
    expect(rotated.code).toBe(0);
    expect(rotated.json().retired.sort()).toEqual(before.map((k: { kid: string }) => k.kid).sort());
    const after = (await cli('keys', 'list', 'acme', '--json')).json();
    expect(after.map((k: { state: string }) => k.state).sort()).toEqual(['active', 'active', 'pending', 'pending']);
  });

  it('creates local users with argon2id password hashes', async () => {
    const created = await runCli(['user', 'create', 'acme', 'alice', '--email', 'alice@acme.test', '--given-name', 'Alice', '--group', 'staff', '--password-stdin', '--json'], {
      env,
      input: 'Correct-Horse-9\n',
    });
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({ username: 'alice', email: 'alice@acme.test', hasPassword: true, groups: ['staff'] });
    const weak = await runCli(['user', 'set-password', 'acme', 'alice', '--password-stdin'], { env, input: 'short\n' });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('at least 8 characters');
    expect((await runCli(['user', 'set-password', 'acme', 'alice', '--password-stdin'], { env, input: 'Another-Horse-10\n' })).code).toBe(0);
    const db = new BetterSqlite3(path.join(dir, 'gh.db'), { readonly: true });
    const { password_hash: hash } = db.prepare(`SELECT password_hash FROM users WHERE username = 'alice'`).get() as { password_hash: string };
    db.close();
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await cli('user', 'list', 'acme', '--json')).json()).toHaveLength(1);
  });

  it('shows the audit log of every change, without secrets', async () => {
    const events = (await cli('audit', 'list', 'acme', '--limit', '100', '--json')).json() as Array<{ action: string; actorType: string; actorId: string }>;
    const actions = events.map((e) => e.action);
    for (const action of ['tenant.created', 'tenant.suspended', 'tenant.resumed', 'resource.created', 'client.created', 'keys.rotated', 'user.created', 'user.password_set']) {
      expect(actions).toContain(action);
    }
    expect(events.find((e) => e.action === 'tenant.created')!.actorType).toBe('operator');
    const text = (await cli('audit', 'list', 'acme')).stdout;
    expect(text).toMatch(/TIME\s+ACTION\s+OUTCOME/);
    expect(text).not.toMatch(/Correct-Horse|Another-Horse/);
  });
});
