import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { TenantStore } from '../store/tenant-store.js';

/** Loads the provider metadata of one client of the tenant (cached by the tenant runtime). */
export type ClientMetadataLoader = (clientId: string) => Promise<AdapterPayload | undefined>;

/**
 * oidc-provider's storage adapter for one tenant: every model in the tenant's store, with expiry.
 * Clients are read from the tenant's apps (through the runtime's cache) and cannot be written
 * through the provider: dynamic registration is off, apps are managed with the CLI or config.
 */
export class StoreOidcAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: TenantStore,
    private readonly loadClient: ClientMetadataLoader,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    if (this.model === 'Client') throw new Error('clients are managed by Gatehouse, not through the provider');
    await this.store.oidc.upsert(this.model, id, payload as Record<string, unknown>, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.model === 'Client') return this.loadClient(id);
    return withConsumed(await this.store.oidc.find(this.model, id));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return withConsumed(await this.store.oidc.findByUserCode(this.model, userCode));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return withConsumed(await this.store.oidc.findByUid(this.model, uid));
  }

  async consume(id: string): Promise<void> {
    await this.store.oidc.consume(this.model, id);
  }

  async destroy(id: string): Promise<void> {
    await this.store.oidc.destroy(this.model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.store.oidc.revokeByGrantId(grantId);
  }
}

function withConsumed(stored: { payload: Record<string, unknown>; consumedAt: number | undefined } | undefined): AdapterPayload | undefined {
  if (!stored) return undefined;
  const payload = stored.payload as AdapterPayload;
  return stored.consumedAt === undefined ? payload : { ...payload, consumed: Math.floor(stored.consumedAt / 1000) };
}
