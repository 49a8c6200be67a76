import type Provider from 'oidc-provider';
import { LRUCache } from 'lru-cache';

type ClientInstance = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

/**
 * Keeps the provider's Client instances by client id, for the life of the provider.
 *
 * oidc-provider's own lookup of an adapter-loaded client hashes the client's whole metadata
 * (SHA-256 of its JSON) on every request to find the instance in a cache of 100, and builds and
 * validates a new instance when it is not there (a tenant with more than 100 active apps would do
 * that constantly). A tenant's provider is rebuilt whenever one of its apps changes (the tenant
 * revision), so caching instances by id for the provider's life is exactly as fresh as the
 * metadata cache in front of the adapter. Unknown ids are not cached (random ids cannot fill it).
 *
 * `loadMetadata` (the runtime's metadata cache) is still consulted on every lookup: it is cheap
 * when warm, and it keeps the app's stored record in the runtime's cache for as long as its
 * instance is used (grants read the record: resources, exchange policy).
 */
export function cacheClientInstances(provider: Provider, max: number, loadMetadata: (clientId: string) => Promise<unknown>): void {
  const Client = provider.Client;
  const find = Client.find.bind(Client);
  const instances = new LRUCache<string, ClientInstance>({ max });
  (Client as unknown as { find(id: string): Promise<ClientInstance | undefined> }).find = async (id: string) => {
    const cached = instances.get(id);
    if (cached && (await loadMetadata(id))) return cached;
    const client = await find(id);
    if (client) instances.set(id, client);
    return client;
  };
}
