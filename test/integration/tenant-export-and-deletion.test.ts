import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { TENANT_TABLES } from '../../src/store/database.js';
import { runCli } from '../helpers/cli.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { describeWhen } from '../helpers/requirements.js';

jest.setTimeout(120_000);
const OPERATOR = { type: 'operator' as const, id: 'test' };

/** A tenant's data is the tenant's: it can be exported (without secrets) and deleted. */
function exportAndDeletion(name: string, databaseUrl: () => string) {
  describe(`${name}: tenant export and deletion`, () => {
    let services: Services;
    let dir: string;
    const secret = randomBytes(32).toString('base64url');

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'gh-export-'));
      const config = loadConfig({ env: {}, overrides: { database: { url: databaseUrl() }, keys: { dir: path.join(dir, 'keys') }, logging: { level: 'silent' }, demo: { enabled: false } } });
      services = createServices(config, silentLogger());
      await services.store.migrate();
      for (const id of ['leaving', 'staying']) {
        await services.tenants.create({ id, displayName: id }, OPERATOR);
        const store = services.store.forTenant(id);
        await services.users.create(store, { username: 'alice', password: 'Alice-Password-1', groups: ['staff'] }, OPERATOR);
        await services.clients.create(store, { clientId: 'svc', grantTypes: ['client_credentials'], secret }, OPERATOR);
      }
    });
    afterAll(async () => {
      await services?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('exports every table it keeps, and no secret', async () => {
      const lines: string[] = [];
      const result = await services.tenants.export('leaving', (line) => void lines.push(line), OPERATOR);
      const header = JSON.parse(lines[0]!);
      expect(header).toMatchObject({ gatehouseExport: 1, tenant: { id: 'leaving' } });
      const records = lines.slice(1).map((l) => JSON.parse(l) as { table: string; row: Record<string, unknown> });
      expect(records.every((r) => r.row.tenant_id === 'leaving')).toBe(true);
      expect(result.tables).toMatchObject({ users: 1, clients: 1, groups: 1, group_members: 1, signing_keys: 2 });
      const text = lines.join('\n');
      for (const forbidden of ['password_hash', 'secret_digest', 'private_jwk_sealed', '$argon2id$', secret]) expect(text).not.toContain(forbidden);
      expect(records.some((r) => r.table === 'oidc_payloads')).toBe(false);
      expect(Object.keys(result.tables).every((t) => (TENANT_TABLES as readonly string[]).includes(t))).toBe(true);
    });

    it('deletes only an offboarding tenant, only when confirmed, and nothing of the others', async () => {
      await expect(services.tenants.delete('leaving', 'leaving', OPERATOR)).rejects.toMatchObject({ code: 'tenant.not_offboarding' });
      await services.tenants.update('leaving', { status: 'offboarding' }, OPERATOR);
      await expect(services.tenants.delete('leaving', 'staying', OPERATOR)).rejects.toMatchObject({ code: 'tenant.delete_unconfirmed' });
      const removed = await services.tenants.delete('leaving', 'leaving', OPERATOR);
      expect(removed.users).toBe(1);
      expect(await services.store.tenants.get('leaving')).toBeUndefined();
      const lines: string[] = [];
      await expect(services.tenants.export('leaving', (l) => void lines.push(l), OPERATOR)).rejects.toMatchObject({ code: 'tenant.not_found' });
      const staying = services.store.forTenant('staying');
      expect(await staying.users.findByUsername('alice')).toBeDefined();
      expect(await staying.clients.get('svc')).toBeDefined();
    });
  });
}

exportAndDeletion('SQLite', () => `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'gh-export-db-')), 'gh.db')}`);

const pg = await postgresAvailable();
describeWhen(pg, 'PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());
  exportAndDeletion('PostgreSQL', () => database.url);
});

describe('tenant offboarding from the CLI', () => {
  it('offboards, exports to a file with progress, and deletes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-export-cli-'));
    const env = { DATABASE_URL: `sqlite:${path.join(dir, 'gh.db')}`, GATEHOUSE_KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent' };
    try {
      expect((await runCli(['tenant', 'create', 'gone', '--name', 'Gone'], { env })).code).toBe(0);
      expect((await runCli(['tenant', 'offboard', 'gone', '--json'], { env })).json()).toMatchObject({ status: 'offboarding' });
      const file = path.join(dir, 'gone.jsonl');
      const exported = await runCli(['tenant', 'export', 'gone', '--out', file, '--json'], { env });
      expect(exported.json()).toMatchObject({ tenant: 'gone', file, rows: expect.any(Number) });
      expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!)).toMatchObject({ tenant: { id: 'gone', status: 'offboarding' } });
      const refused = await runCli(['tenant', 'delete', 'gone', '--confirm', 'other'], { env });
      expect(refused.code).toBe(2);
      const deleted = await runCli(['tenant', 'delete', 'gone', '--confirm', 'gone', '--json'], { env });
      expect(deleted.json()).toMatchObject({ deleted: 'gone' });
      expect((await runCli(['tenant', 'list', '--json'], { env })).json()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
