import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createServices, type Services } from '../../src/services.js';
import type { Clock } from '../../src/clock.js';

export interface TestServices {
  services: Services;
  dir: string;
  close(): Promise<void>;
}

/** Gatehouse's business layer without an HTTP server, on a throwaway SQLite database, migrated. */
export async function createTestServices(options: { clock?: Clock; overrides?: Record<string, unknown> } = {}): Promise<TestServices> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-svc-'));
  const config = loadConfig({
    env: {},
    overrides: {
      database: { url: `sqlite:${path.join(dir, 'gatehouse.db')}` },
      keys: { dir: path.join(dir, 'keys') },
      logging: { level: 'silent' },
      demo: { enabled: false },
      maintenance: { purgeIntervalSeconds: 0 },
      // The tests' peers (directories, partners, receivers) listen on loopback.
      outbound: { allowPrivateNetworks: true },
      ...options.overrides,
    },
  });
  const services = createServices(config, silentLogger(), { clock: options.clock });
  await services.store.migrate();
  return {
    services,
    dir,
    async close() {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
