import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { AuditBuffer } from '../../src/audit/audit-buffer.js';

/** The batched writer of high-volume audit events, on a real SQLite store. */
describe('audit buffer', () => {
  let dir: string;
  let services: Services;
  const OPERATOR = { type: 'operator' as const, id: 'test' };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-audit-'));
    const config = loadConfig({ env: {}, overrides: { database: { url: `sqlite:${path.join(dir, 'gh.db')}` }, keys: { dir, masterKey: randomBytes(32).toString('base64') }, logging: { level: 'silent' } } });
    services = createServices(config, silentLogger());
    await services.store.migrate();
    for (const id of ['one', 'two']) await services.tenants.create({ id, displayName: id }, OPERATOR);
  });
  afterAll(async () => {
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const entry = (n: number) => ({ actor: { type: 'client' as const, id: 'job' }, action: 'token.issued', outcome: 'success' as const, details: { n } });
  const issued = async (tenant: string) =>
    (await services.store.forTenant(tenant).audit.list({ limit: 1000, action: 'token.issued' })).map((e) => e.details!.n as number).reverse();

  it('writes every event to its own tenant, in order, once the batch is due', async () => {
    const buffer = new AuditBuffer(services.audit, silentLogger(), { maxEvents: 1000, maxDelayMs: 5 });
    const writes = [];
    for (let n = 0; n < 50; n++) writes.push(buffer.record(services.store.forTenant(n % 2 ? 'one' : 'two'), entry(n)));
    expect(await issued('one')).toEqual([]); // not yet: batched
    await Promise.all(writes);
    expect(await issued('one')).toEqual([...Array(25).keys()].map((i) => i * 2 + 1));
    expect(await issued('two')).toEqual([...Array(25).keys()].map((i) => i * 2));
  });

  it('writes at once when the batch is full, and flushes what waits on demand', async () => {
    const buffer = new AuditBuffer(services.audit, silentLogger(), { maxEvents: 3, maxDelayMs: 60_000 });
    const store = services.store.forTenant('one');
    const before = (await issued('one')).length;
    await Promise.all([buffer.record(store, entry(100)), buffer.record(store, entry(101)), buffer.record(store, entry(102))]);
    expect((await issued('one')).slice(before)).toEqual([100, 101, 102]);
    void buffer.record(store, entry(103));
    await buffer.flush();
    expect((await issued('one')).slice(-1)).toEqual([103]);
  });

  it('is flushed when the services close (graceful shutdown)', async () => {
    void services.auditBuffer.record(services.store.forTenant('two'), entry(999));
    await services.auditBuffer.flush();
    expect((await issued('two')).slice(-1)).toEqual([999]);
  });
});
