import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { Clock } from '../../src/clock.js';
import type { ProviderHooks } from '../../src/oidc/provider-factory.js';
import type Router from '@koa/router';

export interface TestGatehouse {
  url: string;
  services: Services;
  server: RunningServer;
  dir: string;
  issuer(tenantId: string): string;
  stop(): Promise<void>;
}

/**
 * A real Gatehouse server in the test process, on a free loopback port, with its own temporary
 * directory for the SQLite file and the master key (or the given PostgreSQL database).
 */
export async function startGatehouse(
  options: {
    databaseUrl?: string;
    overrides?: Record<string, unknown>;
    clock?: Clock;
    hooks?: ProviderHooks;
    /** Gatehouse routers under /t/:tenant, built from the services (SAML routes with test callbacks). */
    tenantRouters?: (services: Services) => Router[];
  } = {},
): Promise<TestGatehouse> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-test-'));
  const config = loadConfig({
    env: {},
    overrides: {
      server: { port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:1', shutdownGraceMs: 1000 },
      database: { url: options.databaseUrl ?? `sqlite:${path.join(dir, 'gatehouse.db')}` },
      keys: { dir: path.join(dir, 'keys'), publishAheadSeconds: 3600 },
      logging: { level: 'silent' },
      demo: { enabled: false },
      maintenance: { purgeIntervalSeconds: 0 },
      ...options.overrides,
    },
  });
  // The public URL must name the port, which is only known after listening: listen first on a
  // throwaway config, then fix the URL before any tenant runtime (issuer) is built.
  const services = createServices(config, silentLogger(), { clock: options.clock });
  const server = await startServer(services, { hooks: options.hooks, printBanner: () => {}, tenantRouters: options.tenantRouters?.(services) });
  (config.server as { publicUrl: string }).publicUrl = `http://127.0.0.1:${server.port}`;
  return {
    url: server.url,
    services,
    server,
    dir,
    issuer: (tenantId) => `${server.url}/t/${tenantId}`,
    async stop() {
      await server.close();
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
