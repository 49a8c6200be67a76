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
import type Router from '@koa/router';
import { ConnectorRegistry, type ConnectorSource } from './connectors/registry.js';
import { localConnectorSource } from './connectors/local/local-password-connector.js';
import { SignInService } from './interaction/sign-in-service.js';
import { InteractionFlow } from './interaction/interaction-flow.js';
import type { SecondFactorStep } from './interaction/second-factor.js';
import { twoFactorStep } from './mfa/second-factor-policy.js';
import { createMfaInteractionRouter } from './mfa/mfa-interaction-routes.js';
import { createPasskeySignInRouter } from './mfa/passkey-sign-in-routes.js';
import { createInteractionRouter } from './interaction/interaction-routes.js';
import { interactiveProviderHooks } from './interaction/provider-hooks.js';
import { createAccountRouter } from './account/account-routes.js';
import { createAccountMfaRouter } from './account/account-mfa-routes.js';
import { tenantPagesRouter } from './http/tenant-pages.js';
import { SamlConnectorSource } from './connectors/saml/saml-connector-source.js';
import { samlRouterFor } from './connectors/saml/saml-routes.js';
import type { OnSamlSignedIn, SamlSessionTerminator } from './connectors/saml/saml-seams.js';
import { partnerSignInSeams } from './interaction/partner-sign-in.js';
import { PartnerLogout } from './interaction/partner-logout.js';
import { createScimRouter } from './scim/scim-router.js';
import { createChangeFeedRouter } from './directory/change-feed-router.js';
import { WebhookDispatcher } from './directory/webhooks/webhook-dispatcher.js';
import { SyncScheduler } from './directory/sync/sync-scheduler.js';

/** What later capabilities (directories, partners, two-factor) add to the server. */
export interface ServerExtensions {
  connectorSources?: ConnectorSource[];
  secondFactor?: SecondFactorStep;
  /** Routers under /t/:tenant/... that need the sign-in flow (a partner's ACS, two-factor pages). */
  routers?: (env: { flow: InteractionFlow; pool: TenantPool; registry: ConnectorRegistry }) => Router[];
  /** Replaces the sign-in flow's side of the SAML seams (tests record what the SAML side hands over). */
  samlSeams?: { onSignedIn: OnSamlSignedIn; sessions: SamlSessionTerminator };
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  app: Koa;
  pool: TenantPool;
  registry: ConnectorRegistry;
  flow: InteractionFlow;
  demo: DemoInfo | undefined;
  /** The webhook dispatcher of this process (started when `webhooks.dispatcherEnabled`). */
  dispatcher: WebhookDispatcher;
  /** The directory sync scheduler of this process (started when `sync.schedulerEnabled`). */
  syncScheduler: SyncScheduler;
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
export async function startServer(
  services: Services,
  options: { hooks?: ProviderHooks; extensions?: ServerExtensions; printBanner?: (text: string) => void } = {},
): Promise<RunningServer> {
  const extensions = options.extensions ?? {};
  const { config, logger, store } = services;
  if (config.clients.allowInsecureLoopbackJwksUri) {
    logger.warn('clients.allowInsecureLoopbackJwksUri is on: apps may register a jwks_uri on a loopback host and it is fetched past the SSRF guard; never in production');
  }
  const migration = await store.migrate();
  if (migration.ran.length) logger.info({ migrations: migration.ran }, 'applied migrations');
  const declared = await applyDeclarations(services, config.tenants);
  for (const r of declared) if (r.created || r.changes.length) logger.info({ declared: r }, 'applied declared tenant');
  const demo = await ensureDemoTenant(services);
  const partnerLogout = new PartnerLogout(services);
  const hooks = options.hooks ?? interactiveProviderHooks(baseHooks(services), logger, partnerLogout);
  const pool = new TenantPool({ store, config, keys: services.keys, box: services.box, clock: services.clock, logger, hooks });
  const registry = new ConnectorRegistry([
    localConnectorSource,
    services.ldapConnectors,
    new SamlConnectorSource(services.saml, services.clock, config.tokens.interactionTtl),
    ...(extensions.connectorSources ?? []),
  ]);
  const signIn = new SignInService(registry, services.throttle, services.audit, logger);
  const flow = new InteractionFlow({ services, pool, registry, secondFactor: extensions.secondFactor ?? twoFactorStep(services.mfa) });
  const app = createApp({
    store,
    pool,
    logger,
    tenantRouters: [
      tenantPagesRouter(),
      createInteractionRouter({ services, registry, signIn, flow }),
      createMfaInteractionRouter(services, flow, services.mfa, services.webauthn),
      createPasskeySignInRouter(services, flow),
      createAccountRouter(services, pool),
      createAccountMfaRouter(services, pool),
      samlRouterFor(services, extensions.samlSeams ?? partnerSignInSeams(services, pool, flow)),
      partnerLogout.router(),
      createScimRouter(services),
      createChangeFeedRouter(services),
      ...(extensions.routers?.({ flow, pool, registry }) ?? []),
    ],
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
  const dispatcher = new WebhookDispatcher({
    store,
    webhooks: services.webhooks,
    clock: services.clock,
    logger: logger.child({ component: 'webhooks' }),
    config: config.webhooks,
    allowPrivateNetworks: config.outbound.allowPrivateNetworks,
  });
  if (config.webhooks.dispatcherEnabled) dispatcher.start();
  const syncScheduler = new SyncScheduler({
    store,
    sync: services.sync,
    clock: services.clock,
    logger: logger.child({ component: 'sync-scheduler' }),
    pollIntervalSeconds: config.sync.pollIntervalSeconds,
  });
  if (config.sync.schedulerEnabled) syncScheduler.start();
  logger.info({ port, publicUrl: config.server.publicUrl, store: store.kind }, 'gatehouse listening');
  if (demo) (options.printBanner ?? ((t) => process.stdout.write(`${t}\n`)))(demoBanner(demo));

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    app,
    pool,
    registry,
    flow,
    demo,
    dispatcher,
    syncScheduler,
    close() {
      closing ??= (async () => {
        maintenance.stop();
        await dispatcher.stop();
        await syncScheduler.stop();
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = new Promise<void>((resolve) => setTimeout(resolve, config.server.shutdownGraceMs).unref());
        await Promise.race([done, grace]);
        server.closeAllConnections();
        await registry.close();
      })();
      return closing;
    },
  };
}
