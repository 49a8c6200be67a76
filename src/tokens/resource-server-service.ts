import { GatehouseError, notFound } from '../errors/gatehouse-error.js';
import { formatZodError } from '../config/zod-messages.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { ResourceServerRecord } from '../store/repositories/resource-server-repository.js';
import type { AuditLog, Actor, RequestOrigin } from '../audit/audit-log.js';
import { resourceServerInputSchema, type ResourceServerInput } from './resource-server-schema.js';

/** APIs (resource servers) of a tenant: the audiences its access tokens are issued for. */
export class ResourceServerService {
  constructor(private readonly audit: AuditLog) {}

  async upsert(
    store: TenantStore,
    raw: ResourceServerInput,
    actor: Actor,
    options: { declared?: boolean; createOnly?: boolean; origin?: RequestOrigin } = {},
  ): Promise<{ resource: ResourceServerRecord; change: 'created' | 'updated' | 'unchanged' }> {
    const parsed = resourceServerInputSchema.safeParse(raw);
    if (!parsed.success) throw new GatehouseError('resource.invalid', formatZodError('', parsed.error));
    const { identifier, name, ...rest } = parsed.data;
    const settings = { ...rest, ...(options.declared ? { declared: true } : {}) };
    const existing = await store.resourceServers.get(identifier);
    if (existing && options.createOnly) throw new GatehouseError('resource.exists', `an API "${identifier}" already exists in this tenant`, { status: 409 });
    if (existing && existing.name === name && JSON.stringify(existing.settings) === JSON.stringify(settings)) {
      return { resource: existing, change: 'unchanged' };
    }
    const change = await store.transaction(async (trx) => {
      const result = await trx.resourceServers.upsert({ identifier, name, settings });
      await trx.bumpRevision();
      await this.audit.record(trx, {
        actor,
        origin: options.origin,
        action: `resource.${result}`,
        target: { type: 'resource', id: identifier },
        outcome: 'success',
        details: { scopes: settings.scopes, format: settings.accessTokenFormat, ttl: settings.accessTokenTtl },
      });
      return result;
    });
    return { resource: (await store.resourceServers.get(identifier))!, change };
  }

  /**
   * Changes some settings of an API. A scope still granted to an app (for client credentials or
   * token exchange) cannot be removed: the app would go on receiving it. APIs declared in
   * configuration are changed there, not here: the next start would undo the change.
   */
  async update(
    store: TenantStore,
    identifier: string,
    patch: Partial<Omit<ResourceServerInput, 'identifier'>>,
    actor: Actor,
  ): Promise<ResourceServerRecord> {
    const existing = await this.get(store, identifier);
    if (existing.settings.declared) throw new GatehouseError('resource.declared', `API "${identifier}" is declared in configuration; change it there`);
    const { declared: _declared, ...current } = existing.settings;
    if (patch.scopes) {
      const kept = new Set(patch.scopes);
      const stillGranted: string[] = [];
      for (const client of await store.clients.list()) {
        const grants = [...client.settings.resources, ...(client.settings.tokenExchange?.resources ?? [])].filter((g) => g.resource === identifier);
        const lost = grants.flatMap((g) => g.scopes).filter((s) => !kept.has(s));
        if (lost.length) stillGranted.push(`${client.clientId} (${[...new Set(lost)].join(' ')})`);
      }
      if (stillGranted.length) {
        throw new GatehouseError('resource.scope_in_use', `cannot remove scopes still granted to: ${stillGranted.join(', ')}`, { status: 409 });
      }
    }
    const { resource } = await this.upsert(store, { identifier, name: existing.name, ...current, ...patch } as ResourceServerInput, actor);
    return resource;
  }

  async get(store: TenantStore, identifier: string): Promise<ResourceServerRecord> {
    const api = await store.resourceServers.get(identifier);
    if (!api) throw notFound('resource.not_found', `no API "${identifier}" in tenant "${store.tenantId}"`);
    return api;
  }

  list(store: TenantStore): Promise<ResourceServerRecord[]> {
    return store.resourceServers.list();
  }

  async delete(store: TenantStore, identifier: string, actor: Actor): Promise<void> {
    await store.transaction(async (trx) => {
      if (!(await trx.resourceServers.delete(identifier))) throw notFound('resource.not_found', `no API "${identifier}" in tenant "${store.tenantId}"`);
      await trx.bumpRevision();
      await this.audit.record(trx, { actor, action: 'resource.deleted', target: { type: 'resource', id: identifier }, outcome: 'success' });
    });
  }
}
