import { LRUCache } from 'lru-cache';
import type { ConnectorSource } from '../registry.js';
import type { Connector } from '../connector.js';
import type { TenantRecord } from '../../store/repositories/tenant-registry.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { Clock } from '../../clock.js';
import type { SamlConnectionService } from './saml-connection-service.js';
import { SamlRedirectConnector } from './saml-redirect-connector.js';
import { connectionReady } from './saml-response-validator.js';

/**
 * The SAML connections of a tenant as redirect connectors, for the sign-in page (buttons, and
 * email-domain routing by `domains`). Built connectors are cached per tenant and rebuilt when
 * the tenant's revision moves (every change to a connection bumps it, in any process).
 * Connections that are disabled or have no partner metadata yet are not offered.
 */
export class SamlConnectorSource implements ConnectorSource {
  readonly type = 'saml';
  private readonly cache = new LRUCache<string, { revision: number; connectors: Connector[] }>({ max: 1000 });

  constructor(
    private readonly service: SamlConnectionService,
    private readonly clock: Clock,
    private readonly requestTtlSeconds: number,
  ) {}

  async connectorsFor(tenant: TenantRecord, store: TenantStore): Promise<Connector[]> {
    const cached = this.cache.get(tenant.id);
    if (cached && cached.revision === tenant.revision) return cached.connectors;
    const connections = await store.saml.connections.list();
    const connectors = connections
      .filter((connection) => connectionReady({ connection }))
      .map((connection) => new SamlRedirectConnector(connection, store, this.service, this.clock, this.requestTtlSeconds));
    this.cache.set(tenant.id, { revision: tenant.revision, connectors });
    return connectors;
  }
}
