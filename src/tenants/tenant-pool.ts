import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { SecretBox } from '../crypto/envelope.js';
import type { Logger } from '../logging/logger.js';
import type { Store } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { ClientRecord } from '../store/repositories/client-repository.js';
import type { SigningKeyService } from '../tokens/signing-keys.js';
import { createTenantProvider, type ProviderHooks } from '../oidc/provider-factory.js';
import { clientMetadata } from '../oidc/client-metadata.js';
import { accountClientRecord, isBuiltInClient } from '../account/account-client.js';
import { cacheClientInstances } from '../oidc/client-instance-cache.js';

/**
 * What one tenant needs in memory to answer requests: its oidc-provider and caches of its apps.
 * A runtime belongs to one revision of the tenant: when the tenant, an app, an API or a key
 * changes (in this process or another), the revision moves and the runtime is rebuilt.
 */
export interface TenantRuntime {
  tenant: TenantRecord;
  store: TenantStore;
  provider: Provider;
  /** Node request handler of the provider. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The next time a key starts or stops signing or leaves the JWKS. */
  validUntil: number;
  builtAt: number;
  clientRecord(clientId: string): ClientRecord | undefined;
}

export interface TenantPoolOptions {
  store: Store;
  config: GatehouseConfig;
  keys: SigningKeyService;
  box: SecretBox;
  clock: Clock;
  logger: Logger;
  hooks: ProviderHooks;
}

/** Client lookups per runtime: a bounded cache, so random client ids cannot grow it without limit. */
const CLIENT_CACHE_SIZE = 5000;

/**
 * The live tenant runtimes, in a bounded LRU: 10,000 tenants do not need 10,000 providers in
 * memory; an evicted tenant is rebuilt on its next request (a few milliseconds).
 */
export class TenantPool {
  private readonly runtimes: LRUCache<string, TenantRuntime>;
  private readonly building = new Map<string, Promise<TenantRuntime>>();
  private builds = 0;

  constructor(private readonly options: TenantPoolOptions) {
    this.runtimes = new LRUCache({ max: options.config.tenantPool.maxLiveTenants });
  }

  issuerFor(tenantId: string): string {
    return `${this.options.config.server.publicUrl}/t/${tenantId}`;
  }

  /** How many runtimes have been built since start (tests and metrics). */
  get buildCount(): number {
    return this.builds;
  }

  get size(): number {
    return this.runtimes.size;
  }

  /** The runtime for the tenant as it is now (the caller has just read the tenant row). */
  async runtimeFor(tenant: TenantRecord): Promise<TenantRuntime> {
    const current = this.runtimes.get(tenant.id);
    if (current && current.tenant.revision === tenant.revision && this.options.clock.now() < current.validUntil) return current;
    const key = `${tenant.id}@${tenant.revision}`;
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.build(tenant).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    const runtime = await pending;
    this.runtimes.set(tenant.id, runtime);
    return runtime;
  }

  evict(tenantId: string): void {
    this.runtimes.delete(tenantId);
  }

  private async build(tenant: TenantRecord): Promise<TenantRuntime> {
    const { store, config, keys, box, clock, hooks } = this.options;
    const tenantStore = store.forTenant(tenant.id);
    const [{ keys: jwks, validUntil }, apis] = await Promise.all([keys.providerJwks(tenantStore), tenantStore.resourceServers.list()]);
    const clients = new LRUCache<string, { record: ClientRecord | null; metadata: AdapterPayload | null }>({ max: CLIENT_CACHE_SIZE });
    const defaultAlg = config.keys.algorithms[0]!;
    const issuer = this.issuerFor(tenant.id);
    const loadClient = async (clientId: string): Promise<AdapterPayload | undefined> => {
      let entry = clients.get(clientId);
      if (!entry) {
        const record = isBuiltInClient(clientId) ? accountClientRecord(issuer) : ((await tenantStore.clients.get(clientId)) ?? null);
        entry = { record, metadata: record ? clientMetadata(record, defaultAlg) : null };
        clients.set(clientId, entry);
      }
      return entry.metadata ?? undefined;
    };
    const provider = createTenantProvider({
      tenant,
      issuer,
      store: tenantStore,
      jwks,
      cookieKeys: box.deriveKeys(`cookies|tenant:${tenant.id}`).map((k) => k.toString('base64url')),
      secureCookies: config.server.publicUrl.startsWith('https:'),
      config,
      resources: new Map(apis.map((a) => [a.identifier, a])),
      clientRecord: (clientId) => clients.get(clientId)?.record ?? undefined,
      loadClient,
      hooks,
    });
    cacheClientInstances(provider, CLIENT_CACHE_SIZE, loadClient);
    const callback = provider.callback() as unknown as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    this.builds++;
    this.options.logger.debug({ tenant: tenant.id, revision: tenant.revision }, 'built tenant runtime');
    return {
      tenant,
      store: tenantStore,
      provider,
      handle: callback,
      validUntil,
      builtAt: clock.now(),
      clientRecord: (clientId) => clients.get(clientId)?.record ?? undefined,
    };
  }
}
