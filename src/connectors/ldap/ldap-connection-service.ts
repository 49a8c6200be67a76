import { GatehouseError, notFound } from '../../errors/gatehouse-error.js';
import { constantTimeEqual } from '../../crypto/secrets.js';
import { formatZodError } from '../../config/zod-messages.js';
import type { SecretBox } from '../../crypto/envelope.js';
import type { AuditLog, Actor, RequestOrigin } from '../../audit/audit-log.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { LdapConnectionRow } from '../../store/repositories/ldap-connection-repository.js';
import { isUniqueViolation } from '../../store/store.js';
import { checkConnection, type CheckOptions, type ServerCheck } from './ldap-connection-check.js';
import { ldapConnectionInputSchema, parseConnectionInput, resolveNewSettings, resolveUpdatedSettings, validateSettings, type LdapConnectionInput, type LdapConnectionPatch, type LdapSettings } from './ldap-settings.js';

/** A tenant's LDAP connection as the business layer sees it: settings validated, password sealed away. */
export interface LdapConnectionRecord {
  id: string;
  displayName: string;
  position: number;
  enabled: boolean;
  settings: LdapSettings;
  hasBindPassword: boolean;
  createdAt: number;
  updatedAt: number;
}

/** The sealed bind password is bound to its tenant and connection: copied elsewhere, it does not open. */
export const bindPasswordContext = (tenantId: string, connectionId: string) => `tenant:${tenantId}|ldap-bind-password:${connectionId}`;

function toRecord(row: LdapConnectionRow): LdapConnectionRecord {
  return {
    id: row.id,
    displayName: row.displayName,
    position: row.position,
    enabled: row.enabled,
    // Parsed again on every read: a row written by an older version still meets today's rules.
    settings: validateSettings(row.settings),
    hasBindPassword: row.bindPasswordSealed !== undefined,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Non-secret facts about a connection for the audit log. */
function auditDetails(record: Pick<LdapConnectionRecord, 'settings' | 'enabled' | 'position'>): Record<string, unknown> {
  return {
    preset: record.settings.preset,
    servers: record.settings.servers,
    baseDn: record.settings.baseDn,
    bindDn: record.settings.bindDn,
    enabled: record.enabled,
    position: record.position,
    ...(record.settings.dangerouslyAllowPlaintext ? { dangerouslyAllowPlaintext: true } : {}),
  };
}

const patchSchema = ldapConnectionInputSchema.omit({ id: true });

/**
 * LDAP connections of a tenant: create, change, remove, list. Every change is one transaction
 * that also bumps the tenant revision (so every server process rebuilds its pools for the
 * tenant) and writes the audit log. The bind password is sealed with the tenant's and the
 * connection's ids as context and never returned.
 */
export class LdapConnectionService {
  constructor(
    private readonly box: SecretBox,
    private readonly audit: AuditLog,
  ) {}

  private seal(store: TenantStore, connectionId: string, password: string): string {
    return this.box.seal(password, bindPasswordContext(store.tenantId, connectionId));
  }

  /** The service account's password in clear, for the connector and for `ldap test`. */
  bindPassword(store: TenantStore, row: Pick<LdapConnectionRow, 'id' | 'bindPasswordSealed'>): string | undefined {
    return row.bindPasswordSealed === undefined ? undefined : this.box.openString(row.bindPasswordSealed, bindPasswordContext(store.tenantId, row.id));
  }

  async create(store: TenantStore, raw: LdapConnectionInput, actor: Actor, origin?: RequestOrigin, options: { declared?: boolean } = {}): Promise<LdapConnectionRecord> {
    const input = parseConnectionInput(raw);
    const settings = resolveNewSettings(input);
    if (options.declared) settings.declared = true;
    try {
      return await store.transaction(async (trx) => {
        const row = await trx.ldapConnections.insert({
          id: input.id,
          displayName: input.displayName ?? input.id,
          position: input.position ?? (await trx.ldapConnections.nextPosition()),
          enabled: input.enabled ?? true,
          settings,
          bindPasswordSealed: input.bindPassword === undefined ? undefined : this.seal(trx, input.id, input.bindPassword),
        });
        await trx.bumpRevision();
        const record = toRecord(row);
        await this.audit.record(trx, {
          actor,
          origin,
          action: 'ldap.connection_created',
          target: { type: 'ldap_connection', id: input.id },
          outcome: 'success',
          details: auditDetails(record),
        });
        return record;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new GatehouseError('ldap.connection_exists', `an LDAP connection "${input.id}" already exists in this tenant`, { status: 409 });
      throw error;
    }
  }

  async update(store: TenantStore, id: string, raw: LdapConnectionPatch, actor: Actor, origin?: RequestOrigin): Promise<LdapConnectionRecord> {
    const parsed = patchSchema.safeParse(raw);
    if (!parsed.success) throw new GatehouseError('ldap.invalid_settings', formatZodError('', parsed.error));
    const patch = parsed.data;
    return store.transaction(async (trx) => {
      const row = await trx.ldapConnections.get(id);
      if (!row) throw this.missing(store, id);
      const current = toRecord(row);
      const settings = resolveUpdatedSettings(current.settings, patch as Record<string, unknown>);
      await trx.ldapConnections.update(id, {
        displayName: patch.displayName,
        position: patch.position,
        enabled: patch.enabled,
        settings,
        ...(patch.bindPassword !== undefined ? { bindPasswordSealed: this.seal(trx, id, patch.bindPassword) } : {}),
      });
      await trx.bumpRevision();
      const updated = toRecord((await trx.ldapConnections.get(id))!);
      const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
      await this.audit.record(trx, {
        actor,
        origin,
        action: 'ldap.connection_updated',
        target: { type: 'ldap_connection', id },
        outcome: 'success',
        details: { changed, ...auditDetails(updated) },
      });
      return updated;
    });
  }

  /**
   * Applies a connection declared in configuration: created when missing, replaced when its
   * settings, name, order, state or password differ, left alone (no revision bump, no audit)
   * when the same.
   */
  async applyDeclared(store: TenantStore, raw: LdapConnectionInput, actor: Actor): Promise<'created' | 'updated' | 'unchanged'> {
    const input = parseConnectionInput(raw);
    const row = await store.ldapConnections.get(input.id);
    if (!row) {
      await this.create(store, input, actor, undefined, { declared: true });
      return 'created';
    }
    const settings = { ...resolveNewSettings(input), declared: true };
    const current = toRecord(row);
    const displayName = input.displayName ?? input.id;
    const position = input.position ?? current.position;
    const enabled = input.enabled ?? true;
    const stored = this.bindPassword(store, row);
    const passwordChanged = input.bindPassword !== undefined && (stored === undefined || !constantTimeEqual(stored, input.bindPassword));
    const same =
      JSON.stringify(current.settings) === JSON.stringify(settings) &&
      current.displayName === displayName &&
      current.position === position &&
      current.enabled === enabled &&
      !passwordChanged;
    if (same) return 'unchanged';
    await store.transaction(async (trx) => {
      await trx.ldapConnections.update(input.id, {
        displayName,
        position,
        enabled,
        settings,
        ...(passwordChanged ? { bindPasswordSealed: this.seal(trx, input.id, input.bindPassword!) } : {}),
      });
      await trx.bumpRevision();
      await this.audit.record(trx, {
        actor,
        action: 'ldap.connection_updated',
        target: { type: 'ldap_connection', id: input.id },
        outcome: 'success',
        details: { declared: true, bindPasswordChanged: passwordChanged, ...auditDetails({ settings, enabled, position }) },
      });
    });
    return 'updated';
  }

  async remove(store: TenantStore, id: string, actor: Actor, origin?: RequestOrigin): Promise<void> {
    await store.transaction(async (trx) => {
      if (!(await trx.ldapConnections.delete(id))) throw this.missing(store, id);
      await trx.bumpRevision();
      await this.audit.record(trx, { actor, origin, action: 'ldap.connection_removed', target: { type: 'ldap_connection', id }, outcome: 'success' });
    });
  }

  async get(store: TenantStore, id: string): Promise<LdapConnectionRecord> {
    const row = await store.ldapConnections.get(id);
    if (!row) throw this.missing(store, id);
    return toRecord(row);
  }

  /** In sign-in order. */
  async list(store: TenantStore): Promise<LdapConnectionRecord[]> {
    return (await store.ldapConnections.list()).map(toRecord);
  }

  /** Connections with their bind passwords opened, for the connector source and `ldap test`. */
  async loadWithSecrets(store: TenantStore): Promise<Array<{ record: LdapConnectionRecord; bindPassword: string | undefined; sealed: string | undefined }>> {
    return (await store.ldapConnections.list()).map((row) => ({ record: toRecord(row), bindPassword: this.bindPassword(store, row), sealed: row.bindPasswordSealed }));
  }

  /** `gatehouse ldap test`: each server, step by step, with the stored settings and password. */
  async check(store: TenantStore, id: string, options: CheckOptions = {}): Promise<ServerCheck[]> {
    const row = await store.ldapConnections.get(id);
    if (!row) throw this.missing(store, id);
    return checkConnection(toRecord(row).settings, this.bindPassword(store, row), options);
  }

  private missing(store: TenantStore, id: string): GatehouseError {
    return notFound('ldap.connection_not_found', `no LDAP connection "${id}" in tenant "${store.tenantId}"`);
  }
}
