import type { GatehouseConfig } from './config/schema.js';
import { systemClock, type Clock } from './clock.js';
import type { Logger } from './logging/logger.js';
import { SecretBox } from './crypto/envelope.js';
import { loadMasterKeys } from './crypto/master-key.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { AuditLog } from './audit/audit-log.js';
import { AuditBuffer } from './audit/audit-buffer.js';
import { SigningKeyService, type SigningAlgorithm } from './tokens/signing-keys.js';
import { TenantService } from './tenants/tenant-service.js';
import { ClientService } from './clients/client-service.js';
import { ResourceServerService } from './tokens/resource-server-service.js';
import { UserService } from './users/user-service.js';
import { SignInThrottle } from './interaction/sign-in-throttle.js';
import { MfaService } from './mfa/mfa-service.js';
import { WebAuthnService } from './mfa/webauthn-service.js';
import { SamlConnectionService } from './connectors/saml/saml-connection-service.js';
import { SamlLogoutService } from './connectors/saml/saml-logout-service.js';
import type { MetadataFetcher } from './connectors/saml/saml-metadata-fetcher.js';
import { LdapConnectionService } from './connectors/ldap/ldap-connection-service.js';
import { LdapConnectorSource } from './connectors/ldap/ldap-connector-source.js';
import { WebhookService } from './directory/webhooks/webhook-service.js';
import { SyncService } from './directory/sync/sync-service.js';

/**
 * The business layer, built once per process from the configuration: the HTTP server, the CLI
 * and tests all use the same services (DESIGN.md: routes -> libraries -> store).
 */
export interface Services {
  config: GatehouseConfig;
  clock: Clock;
  logger: Logger;
  box: SecretBox;
  store: Store;
  audit: AuditLog;
  /** The audit log for high-volume events (tokens), written in small batches. */
  auditBuffer: AuditBuffer;
  keys: SigningKeyService;
  tenants: TenantService;
  clients: ClientService;
  resources: ResourceServerService;
  users: UserService;
  /** Failed sign-in and second-factor counters (per account and client IP). */
  throttle: SignInThrottle;
  mfa: MfaService;
  webauthn: WebAuthnService;
  /** SAML partner connections of tenants (connectors/saml/). */
  saml: SamlConnectionService;
  /** SAML single logout (SP- and IdP-initiated). */
  samlLogout: SamlLogoutService;
  /** LDAP / Active Directory connections of tenants (issue 4). */
  ldap: LdapConnectionService;
  /** The tenants' LDAP connections as password connectors (pools cached per tenant revision). */
  ldapConnectors: LdapConnectorSource;
  /** Webhook subscriptions to directory changes (the dispatcher runs in the server). */
  webhooks: WebhookService;
  /** Directory sync of the tenants' LDAP connections (the scheduler runs in the server). */
  sync: SyncService;
  /** The longest lifetime of a token signed by a tenant, in seconds (retired keys stay published that long). */
  maxTokenLifetimeSeconds(tenantId: string): Promise<number>;
  close(): Promise<void>;
}

export function createServices(config: GatehouseConfig, logger: Logger, options: { clock?: Clock; store?: Store; samlMetadataFetcher?: MetadataFetcher } = {}): Services {
  const clock = options.clock ?? systemClock;
  const box = new SecretBox(
    loadMasterKeys({ fromEnvironment: config.keys.masterKey, dir: config.keys.dir, generateDevKey: config.keys.generateDevMasterKey, logger }),
  );
  const store = options.store ?? openStore({ url: config.database.url, clock, postgres: config.database.postgres });
  const audit = new AuditLog(clock, logger.child({ component: 'audit' }));
  const auditBuffer = new AuditBuffer(audit, logger.child({ component: 'audit' }));
  const keys = new SigningKeyService({
    box,
    clock,
    algorithms: config.keys.algorithms as SigningAlgorithm[],
    publishAheadSeconds: config.keys.publishAheadSeconds,
  });
  const t = config.tokens;
  const throttle = new SignInThrottle(clock);
  // Read at each use: the public URL is fixed only once the server listens (tests, port 0).
  const publicUrl = () => config.server.publicUrl;
  const saml = new SamlConnectionService({ box, audit, clock, logger: logger.child({ component: 'saml' }), publicUrl, fetcher: options.samlMetadataFetcher, allowPrivateNetworks: config.outbound.allowPrivateNetworks });
  const ldap = new LdapConnectionService(box, audit);
  const ldapConnectors = new LdapConnectorSource({ connections: ldap, clock, logger: logger.child({ component: 'ldap' }) });
  return {
    config,
    clock,
    logger,
    box,
    store,
    audit,
    auditBuffer,
    keys,
    tenants: new TenantService(store, keys, audit, logger),
    clients: new ClientService(audit, { allowInsecureLoopbackJwksUri: config.clients.allowInsecureLoopbackJwksUri }),
    resources: new ResourceServerService(audit),
    users: new UserService(audit),
    throttle,
    mfa: new MfaService(box, clock, audit, throttle),
    webauthn: new WebAuthnService(box, audit, publicUrl),
    saml,
    samlLogout: new SamlLogoutService({ store, saml, clock, audit, publicUrl }),
    ldap,
    ldapConnectors,
    webhooks: new WebhookService({ box, clock, audit, allowInsecureHttpUrls: config.webhooks.allowInsecureHttpUrls }),
    sync: new SyncService({ connections: ldap, audit, clock, logger: logger.child({ component: 'sync' }), leaseSeconds: config.sync.leaseSeconds }),
    async maxTokenLifetimeSeconds(tenantId: string) {
      const apis = await store.forTenant(tenantId).resourceServers.list();
      return Math.max(t.accessTokenTtl, t.clientCredentialsTtl, t.idTokenTtl, ...apis.map((a) => a.settings.accessTokenTtl)) + t.clockToleranceSeconds;
    },
    async close() {
      await ldapConnectors.close();
      await auditBuffer.flush();
      await store.close();
    },
  };
}
