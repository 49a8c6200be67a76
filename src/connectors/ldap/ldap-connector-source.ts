import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging/logger.js';
import type { TenantRecord } from '../../store/repositories/tenant-registry.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { ConnectorSource } from '../registry.js';
import type { LdapConnectionService } from './ldap-connection-service.js';
import { LdapPasswordConnector } from './ldap-password-connector.js';
import { LdapServerPool } from './ldap-server-pool.js';

interface TenantConnectors {
  revision: number;
  connectors: LdapPasswordConnector[];
  fingerprints: Map<string, string>;
}

export interface LdapConnectorSourceOptions {
  connections: LdapConnectionService;
  clock: Clock;
  logger: Logger;
  /** Tenants whose pools are kept; the least recently used beyond this are closed. */
  maxTenants?: number;
}

/**
 * The tenant's LDAP connections as password connectors, in their configured order (the sign-in
 * asks them after local accounts). Connectors and their server pools are cached per tenant and
 * checked against the tenant revision on each call: when it moved (any change to the tenant,
 * made by this process, another one or the CLI), the connections are read again; a connection
 * whose settings and password did not change keeps its pool, the others get new pools and the
 * replaced pools are closed.
 */
export class LdapConnectorSource implements ConnectorSource {
  readonly type = 'ldap';
  private readonly cache: LRUCache<string, TenantConnectors>;
  private readonly loading = new Map<string, Promise<TenantConnectors>>();

  constructor(private readonly options: LdapConnectorSourceOptions) {
    this.cache = new LRUCache<string, TenantConnectors>({
      max: options.maxTenants ?? 1000,
      // Replacing an entry must not close the pools it hands over; evicting one closes them.
      noDisposeOnSet: true,
      dispose: (entry) => {
        for (const c of entry.connectors) void c.close();
      },
    });
  }

  async connectorsFor(tenant: TenantRecord, store: TenantStore): Promise<LdapPasswordConnector[]> {
    const cached = this.cache.get(tenant.id);
    if (cached && cached.revision === tenant.revision) return cached.connectors;
    const key = `${tenant.id}@${tenant.revision}`;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(tenant, store, cached).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return (await pending).connectors;
  }

  private async load(tenant: TenantRecord, store: TenantStore, previous: TenantConnectors | undefined): Promise<TenantConnectors> {
    const rows = await this.options.connections.loadWithSecrets(store);
    const fingerprints = new Map<string, string>();
    const connectors: LdapPasswordConnector[] = [];
    const reused = new Set<LdapPasswordConnector>();
    for (const { record, bindPassword, sealed } of rows) {
      if (!record.enabled) continue;
      const fingerprint = createHash('sha256').update(JSON.stringify([record.settings, record.displayName, sealed ?? null])).digest('hex');
      fingerprints.set(record.id, fingerprint);
      const old = previous?.connectors.find((c) => c.id === record.id);
      if (old && previous?.fingerprints.get(record.id) === fingerprint) {
        connectors.push(old);
        reused.add(old);
        continue;
      }
      const pool = new LdapServerPool({
        connectionId: record.id,
        settings: record.settings,
        bindPassword,
        clock: this.options.clock,
        logger: this.options.logger.child({ tenant: tenant.id, ldapConnection: record.id }),
      });
      connectors.push(new LdapPasswordConnector(record.id, record.displayName, pool, this.options.clock));
    }
    const entry: TenantConnectors = { revision: tenant.revision, connectors, fingerprints };
    const current = this.cache.get(tenant.id);
    // A slower load of an older revision must not replace a newer one.
    if (current && current.revision > tenant.revision) {
      for (const c of connectors) if (!reused.has(c)) void c.close();
      return current;
    }
    this.cache.set(tenant.id, entry);
    // Close what the new entry does not carry over, from the entry it replaces and the one it was built from.
    const kept = new Set(connectors);
    for (const c of new Set([...(current?.connectors ?? []), ...(previous?.connectors ?? [])])) if (!kept.has(c)) void c.close();
    return entry;
  }

  async close(): Promise<void> {
    const all = [...this.cache.values()].flatMap((e) => e.connectors);
    this.cache.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
