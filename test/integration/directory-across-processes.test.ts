import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { parseTenantSettings } from '../../src/tenants/tenant-settings.js';

const WRITER = fileURLToPath(new URL('../fixtures/directory-writer-process.ts', import.meta.url));

function runWriter(url: string, prefix: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, url, prefix, String(count)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${prefix} exited with ${code}: ${stderr}`))));
  });
}

/**
 * Two processes write one SQLite directory at the same time (the embedded default shared by
 * several server processes or a server and the CLI): the change feed stays gap-free and each
 * transaction's changes stay together.
 */
describe('directory changes from two processes on one SQLite file', () => {
  let dir: string;
  let url: string;
  let store: Store;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-dir-proc-'));
    url = `sqlite:${path.join(dir, 'shared.db')}`;
    store = openStore({ url });
    await store.migrate();
    await store.createTenant({ id: 'alpha', displayName: 'alpha', status: 'active', settings: parseTenantSettings({}) }, async () => {});
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('numbers every change once, without gaps, each transaction\'s changes adjacent', async () => {
    await Promise.all([runWriter(url, 'p1', 25), runWriter(url, 'p2', 25)]);
    const changes = await store.forTenant('alpha').directoryChanges.list(0, 1000);
    expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (let i = 0; i < 100; i += 2) expect([changes[i]!.objectId, changes[i]!.kind, changes[i + 1]!.kind]).toEqual([changes[i + 1]!.objectId, 'created', 'updated']);
    expect(new Set(changes.map((c) => c.actor.id))).toEqual(new Set(['p1', 'p2']));
  }, 60000);
});
