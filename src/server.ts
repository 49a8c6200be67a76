import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Services } from './services.js';
import { TenantPool } from './tenants/tenant-pool.js';
import type { ProviderHooks } from './oidc/provider-factory.js';
import { createApp } from './http/app.js';
import { applyDeclarations } from './config/apply-declarations.js';
import { ensureDemoTenant, demoBanner, type DemoInfo } from './demo/demo-tenant.js';
import { startMaintenance } from './maintenance/maintenance.js';
import { observeProvider } from './oidc/provider-events.js';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  app: Koa;
  pool: TenantPool;
  demo: DemoInfo | undefined;
  /** Stop accepting, let in-flight requests finish (up to the grace period), stop timers. */
  close(): Promise<void>;
}

/** Provider hooks without sign-in pages: token endpoints, discovery and JWKS only. */
export function baseHooks(services: Services): ProviderHooks {
  return {
    interactionUrl: (tenantId, uid) => `/t/${tenantId}/interaction/${uid}`,
    onProvider: (provider, _tenant, store) => observeProvider(provider, store, services.auditBuffer, services.logger),
  };
}

/**
 * Brings the service up: migrations, declared tenants, the demo tenant on a fresh install, the
 * HTTP server and the background maintenance. The store stays open; the caller closes it.
 */
export async function startServer(services: Services, options: { hooks?: ProviderHooks; printBanner?: (text: string) => void } = {}): Promise<RunningServer> {
  const { config, logger, store } = services;
  if (config.clients.allowInsecureLoopbackJwksUri) {
    logger.warn('clients.allowInsecureLoopbackJwksUri is on: apps may register a jwks_uri on a loopback host and it is fetched past the SSRF guard; never in production');
  }
  const migration = await store.migrate();
  if (migration.ran.length) logger.info({ migrations: migration.ran }, 'applied migrations');
  const declared = await applyDeclarations(services, config.tenants);
  for (const r of declared) if (r.created || r.changes.length) logger.info({ declared: r }, 'applied declared tenant');
  const demo = await ensureDemoTenant(services);
  const pool = new TenantPool({ store, config, keys: services.keys, box: services.box, clock: services.clock, logger, hooks: options.hooks ?? baseHooks(services) });
  const app = createApp({
    store,
    pool,
    logger,
    publicUrl: config.server.publicUrl,
    trustProxy: config.server.trustProxy,
    cookieKeys: services.box.deriveKeys('cookies|root').map((k) => k.toString('base64url')),
  });
  const server = createServer(app.callback());
  // Keep-alive sockets must not hold a shutdown open: idle ones are closed at once on close().
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const maintenance = startMaintenance(services);
  logger.info({ port, publicUrl: config.server.publicUrl, store: store.kind }, 'gatehouse listening');
  if (demo) (options.printBanner ?? ((t) => process.stdout.write(`${t}\n`)))(demoBanner(demo));

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    app,
    pool,
    demo,
    close() {
      closing ??= (async () => {
        maintenance.stop();
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = new Promise<void>((resolve) => setTimeout(resolve, config.server.shutdownGraceMs).unref());
        await Promise.race([done, grace]);
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}
