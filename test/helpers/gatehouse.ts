import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createServices, type Services } from '../../src/services.js';
import { startServer, type RunningServer, type ServerExtensions } from '../../src/server.js';
import type { Clock } from '../../src/clock.js';
import type { ProviderHooks } from '../../src/oidc/provider-factory.js';

export interface TestGatehouse {
  url: string;
  services: Services;
  server: RunningServer;
  dir: string;
  issuer(tenantId: string): string;
  /** Stops the server; keeps its directory (for a restart) when asked. */
  stop(keepDir?: boolean): Promise<void>;
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
    extensions?: ServerExtensions;
    /** Reuse a directory (SQLite file and master key) and a port: a restart of the same server. */
    dir?: string;
    port?: number;
    /** A fixed public URL (behind a pretend proxy); by default the server's own loopback URL. */
    publicUrl?: string;
    /** Host name of the default public URL (`localhost` for WebAuthn, which refuses IP addresses). */
    publicHost?: string;
  } = {},
): Promise<TestGatehouse> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-test-'));
  const config = loadConfig({
    env: {},
    overrides: {
      server: { port: options.port ?? 0, host: '127.0.0.1', publicUrl: options.publicUrl ?? 'http://127.0.0.1:1', shutdownGraceMs: 1000, trustProxy: Boolean(options.publicUrl) },
      database: { url: options.databaseUrl ?? `sqlite:${path.join(dir, 'gatehouse.db')}` },
      keys: { dir: path.join(dir, 'keys'), publishAheadSeconds: 3600 },
      logging: { level: 'silent' },
      demo: { enabled: false },
      maintenance: { purgeIntervalSeconds: 0 },
      // Every peer of the tests (apps, partners, webhook receivers) listens on loopback.
      outbound: { allowPrivateNetworks: true },
      ...options.overrides,
    },
  });
  // The public URL must name the port, which is only known after listening: listen first on a
  // throwaway config, then fix the URL before any tenant runtime (issuer) is built.
  const services = createServices(config, silentLogger(), { clock: options.clock });
  const server = await startServer(services, { hooks: options.hooks, extensions: options.extensions, printBanner: () => {} });
  if (!options.publicUrl) (config.server as { publicUrl: string }).publicUrl = `http://${options.publicHost ?? '127.0.0.1'}:${server.port}`;
  return {
    url: server.url,
    services,
    server,
    dir,
    issuer: (tenantId) => `${config.server.publicUrl}/t/${tenantId}`,
    async stop(keepDir = false) {
      await server.close();
      await services.close();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
