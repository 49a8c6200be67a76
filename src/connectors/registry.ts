import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Connector, PasswordConnector, RedirectConnector } from './connector.js';

/**
 * A kind of connector (local accounts, LDAP connections, SAML connections) and how to get the
 * ones a tenant has. A source may cache what it builds (connection pools, parsed metadata) keyed
 * by the tenant's revision: every change to a tenant's connections bumps the revision.
 */
export interface ConnectorSource {
  readonly type: string;
  connectorsFor(tenant: TenantRecord, store: TenantStore): Promise<Connector[]>;
  close?(): Promise<void>;
}

/** The registry the sign-in asks: password connectors in order (local first), redirect connectors. */
export class ConnectorRegistry {
  constructor(private readonly sources: ConnectorSource[]) {}

  async all(tenant: TenantRecord, store: TenantStore): Promise<Connector[]> {
    const lists = await Promise.all(this.sources.map((s) => s.connectorsFor(tenant, store)));
    return lists.flat();
  }

  async passwordConnectors(tenant: TenantRecord, store: TenantStore): Promise<PasswordConnector[]> {
    return (await this.all(tenant, store)).filter((c): c is PasswordConnector => c.kind === 'password');
  }

  async redirectConnectors(tenant: TenantRecord, store: TenantStore): Promise<RedirectConnector[]> {
    return (await this.all(tenant, store)).filter((c): c is RedirectConnector => c.kind === 'redirect');
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close?.()));
  }
}
