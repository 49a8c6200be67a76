import { GatehouseError, notFound } from '../errors/gatehouse-error.js';
import type { Store } from '../store/store.js';
import type { TenantRecord } from '../store/repositories/tenant-registry.js';
import type { AuditLog, Actor, RequestOrigin } from '../audit/audit-log.js';
import type { SigningKeyService } from '../tokens/signing-keys.js';
import { tenantIdSchema, type TenantStatus } from './tenant-id.js';
import { tenantSettingsSchema, type TenantSettings } from './tenant-settings.js';
import { formatZodError } from '../config/zod-messages.js';
import type { Logger } from '../logging/logger.js';

export interface CreateTenantInput {
  id: string;
  displayName: string;
  status?: TenantStatus;
  settings?: unknown;
}

/** Creating, changing and listing tenants; each change is audited in the tenant's own log. */
export class TenantService {
  constructor(
    private readonly store: Store,
    private readonly keys: SigningKeyService,
    private readonly audit: AuditLog,
    private readonly logger?: Logger,
  ) {}

  validateSettings(raw: unknown): TenantSettings {
    const parsed = tenantSettingsSchema.safeParse(raw ?? {});
    if (!parsed.success) throw new GatehouseError('tenant.invalid_settings', formatZodError('settings', parsed.error));
    return parsed.data;
  }

  async create(input: CreateTenantInput, actor: Actor, origin?: RequestOrigin): Promise<TenantRecord> {
    const id = tenantIdSchema.safeParse(input.id);
    if (!id.success) throw new GatehouseError('tenant.invalid_id', `invalid tenant id "${input.id}": ${id.error.issues[0]!.message}`);
    const displayName = input.displayName?.trim();
    if (!displayName) throw new GatehouseError('tenant.invalid_name', 'a tenant needs a display name');
    if (displayName.length > 200) throw new GatehouseError('tenant.invalid_name', 'a display name has at most 200 characters');
    const settings = this.validateSettings(input.settings);
    return this.store.createTenant({ id: id.data, displayName, status: input.status ?? 'active', settings }, async (ts) => {
      const keys = await this.keys.createInitialKeys(ts);
      await this.audit.record(ts, {
        actor,
        origin,
        action: 'tenant.created',
        target: { type: 'tenant', id: id.data },
        outcome: 'success',
        details: { displayName, keys: keys.map((k) => ({ kid: k.kid, alg: k.alg })) },
      });
    });
  }

  async get(id: string): Promise<TenantRecord> {
    const tenant = await this.store.tenants.get(id);
    if (!tenant) throw notFound('tenant.not_found', `no tenant "${id}"`);
    return tenant;
  }

  async list(): Promise<TenantRecord[]> {
    return this.store.tenants.list();
  }

  async update(
    id: string,
    patch: { displayName?: string; status?: TenantStatus; settings?: unknown },
    actor: Actor,
    origin?: RequestOrigin,
  ): Promise<TenantRecord> {
    const before = await this.get(id);
    const settings = patch.settings === undefined ? undefined : this.validateSettings(patch.settings);
    const updated = await this.store.tenants.update(id, {
      ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(settings !== undefined ? { settings } : {}),
    });
    const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
    const action = patch.status && patch.status !== before.status ? `tenant.${patch.status === 'active' ? 'resumed' : patch.status}` : 'tenant.updated';
    await this.audit.record(this.store.forTenant(id), {
      actor,
      origin,
      action,
      target: { type: 'tenant', id },
      outcome: 'success',
      details: { changed, ...(patch.status ? { from: before.status, to: patch.status } : {}) },
    });
    return updated!;
  }

  /**
   * Writes a tenant's data as JSON lines (`{"table": ..., "row": ...}`), after a first line
   * describing the export. Secrets are never exported. `progress` is called every 1000 rows.
   */
  async export(id: string, write: (line: string) => Promise<void> | void, actor: Actor, progress?: (rows: number, table: string) => void): Promise<{ rows: number; tables: Record<string, number> }> {
    const tenant = await this.get(id);
    await write(JSON.stringify({ gatehouseExport: 1, tenant: { id: tenant.id, displayName: tenant.displayName, status: tenant.status, settings: tenant.settings, createdAt: tenant.createdAt }, exportedAt: new Date().toISOString() }));
    const tables: Record<string, number> = {};
    let rows = 0;
    for await (const { table, row } of this.store.exportTenant(id)) {
      await write(JSON.stringify({ table, row }));
      tables[table] = (tables[table] ?? 0) + 1;
      if (++rows % 1000 === 0) progress?.(rows, table);
    }
    await this.audit.record(this.store.forTenant(id), { actor, action: 'tenant.exported', target: { type: 'tenant', id }, outcome: 'success', details: { rows } });
    return { rows, tables };
  }

  /**
   * Deletes a tenant and all its data. Only an offboarding tenant (its requests already refused)
   * can be deleted, and the caller repeats the id as confirmation. The tenant's audit log goes
   * with it, so the deletion is written to the process log.
   */
  async delete(id: string, confirmation: string, actor: Actor): Promise<Record<string, number>> {
    const tenant = await this.get(id);
    if (confirmation !== id) throw new GatehouseError('tenant.delete_unconfirmed', `repeat the tenant id to confirm: --confirm ${id}`);
    if (tenant.status !== 'offboarding') {
      throw new GatehouseError('tenant.not_offboarding', `tenant "${id}" is ${tenant.status}: offboard it first (gatehouse tenant offboard ${id}), so that it serves no request while it is deleted`, { status: 409 });
    }
    const removed = await this.store.deleteTenant(id);
    this.logger?.warn({ tenant: id, actor, removed }, 'tenant deleted');
    return removed;
  }

  suspend(id: string, actor: Actor): Promise<TenantRecord> {
    return this.update(id, { status: 'suspended' }, actor);
  }

  resume(id: string, actor: Actor): Promise<TenantRecord> {
    return this.update(id, { status: 'active' }, actor);
  }
}
