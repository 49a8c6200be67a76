import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../../logging/logger.js';
import type { Clock } from '../../clock.js';
import type { SecretBox } from '../../crypto/envelope.js';
import type { AuditLog, Actor, RequestOrigin } from '../../audit/audit-log.js';
import type { Store } from '../../store/store.js';
import type { TenantStore } from '../../store/tenant-store.js';
import type { SamlConnectionRecord } from '../../store/repositories/saml-connection-repository.js';
import { isUniqueViolation } from '../../store/store.js';
import { GatehouseError, notFound } from '../../errors/gatehouse-error.js';
import { formatZodError } from '../../config/zod-messages.js';
import { certificateFingerprint, generateKeyWithCertificate } from '../../crypto/self-signed-certificate.js';
import {
  samlConnectionInputSchema,
  type SamlConnectionInput,
  type SamlConnectionInputParsed,
  type SamlConnectionSettings,
  type SamlIdpDescriptor,
  type SamlSpPrivateKeys,
} from './saml-connection-schema.js';
import { parseIdpMetadata, type ParsedIdpMetadata } from './saml-metadata-parser.js';
import { httpMetadataFetcher, type MetadataFetcher } from './saml-metadata-fetcher.js';
import { samlSpUrls, type SamlSpUrls } from './saml-sp-urls.js';
import { buildSpMetadata } from './saml-sp-metadata.js';
import { toCertificatePem } from './saml-xml.js';

const SYSTEM: Actor = { type: 'system', id: 'saml-metadata-refresh' };

/** After a failed metadata fetch, try again sooner than the normal interval (at most every 15 minutes). */
const RETRY_AFTER_FAILURE_MS = 15 * 60 * 1000;

/**
 * Gatehouse's own certificates are long-lived key containers (partners pin the key, not a
 * chain); ten years, replaced by creating the connection's keys anew when needed.
 */
const SP_CERTIFICATE_DAYS = 3650;

export interface SamlConnectionServiceDeps {
  box: SecretBox;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** Read at each use: tests learn their port only after listening. */
  publicUrl: () => string;
  fetcher?: MetadataFetcher;
  /** Metadata URLs may resolve to private or loopback addresses (outbound.allowPrivateNetworks). */
  allowPrivateNetworks?: boolean;
}

/** The context a connection's private keys are sealed under: tenant and purpose bound. */
export const spKeyContext = (tenantId: string, connectionId: string) => `tenant:${tenantId}|saml-sp-key:${connectionId}`;

/** An update: any top-level setting; `idp` is merged key by key over the current one. */
export type SamlConnectionPatch = Partial<Omit<SamlConnectionInput, 'id' | 'idp'>> & { idp?: Partial<NonNullable<SamlConnectionInput['idp']>> };

/**
 * SAML connections of a tenant: creation (with the connection's own key pairs, sealed), updates,
 * removal, partner metadata (from XML, from a URL refreshed on a schedule, or by hand) and
 * Gatehouse's metadata for the partner. Every change bumps the tenant's revision in the same
 * transaction (every server process then rebuilds its connectors) and is audited.
 */
export class SamlConnectionService {
  private readonly fetcher: MetadataFetcher;

  constructor(private readonly deps: SamlConnectionServiceDeps) {
    this.fetcher = deps.fetcher ?? httpMetadataFetcher({ allowPrivateNetworks: deps.allowPrivateNetworks ?? false });
  }

  parse(input: unknown): SamlConnectionInputParsed {
    const parsed = samlConnectionInputSchema.safeParse(input);
    if (!parsed.success) throw new GatehouseError('saml.invalid', formatZodError('', parsed.error));
    const idp = parsed.data.idp;
    if (idp.metadataFile && !idp.metadataXml) {
      try {
        // Configuration and the CLI name a file; it is read here, where the input is applied.
        idp.metadataXml = readFileSync(idp.metadataFile, 'utf8');
      } catch (cause) {
        throw new GatehouseError('saml.metadata_file_unreadable', `idp.metadataFile: cannot read ${idp.metadataFile}: ${(cause as Error).message}`, { cause });
      }
    }
    return parsed.data;
  }

  urls(tenantId: string, connectionId: string): SamlSpUrls {
    return samlSpUrls(this.deps.publicUrl(), tenantId, connectionId);
  }

  async get(store: TenantStore, id: string): Promise<SamlConnectionRecord> {
    const connection = await store.saml.connections.get(id);
    if (!connection) throw notFound('saml.not_found', `no SAML connection "${id}" in tenant "${store.tenantId}"`);
    return connection;
  }

  list(store: TenantStore): Promise<SamlConnectionRecord[]> {
    return store.saml.connections.list();
  }

  spMetadata(tenantId: string, connection: SamlConnectionRecord): string {
    return buildSpMetadata(connection, this.urls(tenantId, connection.id));
  }

  /** The connection's private keys; never logged, never leave the process. */
  openKeys(tenantId: string, connection: SamlConnectionRecord): SamlSpPrivateKeys {
    return JSON.parse(this.deps.box.openString(connection.spKeysSealed, spKeyContext(tenantId, connection.id))) as SamlSpPrivateKeys;
  }

  async create(
    store: TenantStore,
    raw: unknown,
    actor: Actor,
    origin?: RequestOrigin,
    options: { declared?: boolean } = {},
  ): Promise<SamlConnectionRecord> {
    const input = this.parse(raw);
    await this.checkReferences(store, input);
    if (await store.saml.connections.get(input.id)) throw new GatehouseError('saml.exists', `a SAML connection "${input.id}" already exists in this tenant`, { status: 409 });
    // Declared connections must not stop a start when a partner's metadata server is down.
    const { idp, refreshAt } = await this.resolveIdp(input, undefined, { tolerateFetchFailure: Boolean(options.declared) });
    const now = this.deps.clock.now();
    const commonName = `Gatehouse SP ${store.tenantId}/${input.id}`.slice(0, 64);
    const [signing, encryption] = await Promise.all([
      generateKeyWithCertificate({ commonName, now, validDays: SP_CERTIFICATE_DAYS }),
      generateKeyWithCertificate({ commonName, now, validDays: SP_CERTIFICATE_DAYS }),
    ]);
    const keys: SamlSpPrivateKeys = { signing: signing.privateKeyPem, encryption: encryption.privateKeyPem };
    try {
      return await store.transaction(async (trx) => {
        const created = await trx.saml.connections.insert({
          id: input.id,
          displayName: input.displayName,
          enabled: input.enabled,
          settings: storedSettings(input),
          idp,
          spCertificates: { signing: signing.certificatePem, encryption: encryption.certificatePem, createdAt: now },
          spKeysSealed: this.deps.box.seal(JSON.stringify(keys), spKeyContext(store.tenantId, input.id)),
          metadataRefreshAt: refreshAt,
          declared: Boolean(options.declared),
        });
        await trx.bumpRevision();
        await this.deps.audit.record(trx, {
          actor,
          origin,
          action: 'saml.connection_created',
          target: { type: 'saml_connection', id: input.id },
          outcome: 'success',
          details: { entityId: idp.entityId, source: idp.source, domains: input.domains, partnerCertificates: idp.signingCertificates.map(certificateFingerprint) },
        });
        return created;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new GatehouseError('saml.exists', `a SAML connection "${input.id}" already exists in this tenant`, { status: 409 });
      throw error;
    }
  }

  /** Changes settings; the partner is resolved again when its settings changed. */
  async update(store: TenantStore, id: string, patch: SamlConnectionPatch, actor: Actor, origin?: RequestOrigin, options: { declared?: boolean } = {}): Promise<SamlConnectionRecord> {
    const current = await this.get(store, id);
    if (current.declared && !options.declared) {
      throw new GatehouseError('saml.declared', `SAML connection "${id}" is declared in configuration; change it there`, { status: 409 });
    }
    const merged = { ...inputOf(current), ...patch, id, idp: mergeIdp(current, patch.idp) };
    const input = this.parse(merged);
    await this.checkReferences(store, input);
    let settings = storedSettings(input);
    // Without idp changes the partner stays exactly as resolved (and keeps its metadata source).
    if (!patch.idp) settings = { ...settings, idp: current.settings.idp };
    const idpChanged = Boolean(patch.idp) && JSON.stringify(settings.idp) !== JSON.stringify(current.settings.idp);
    const resolved = idpChanged ? await this.resolveIdp(input, current.idp, { tolerateFetchFailure: false }) : undefined;
    const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
    return store.transaction(async (trx) => {
      const updated = await trx.saml.connections.update(id, {
        displayName: input.displayName,
        enabled: input.enabled,
        settings,
        ...(resolved ? { idp: resolved.idp, metadataRefreshAt: resolved.refreshAt } : {}),
        declared: current.declared || Boolean(options.declared),
      });
      await trx.bumpRevision();
      await this.deps.audit.record(trx, {
        actor,
        origin,
        action: 'saml.connection_updated',
        target: { type: 'saml_connection', id },
        outcome: 'success',
        details: { changed, ...(resolved ? { partnerCertificates: resolved.idp.signingCertificates.map(certificateFingerprint) } : {}) },
      });
      return updated!;
    });
  }

  /** Configuration apply: create, update when different, or leave alone (no revision bump, no audit). */
  async upsertDeclared(store: TenantStore, raw: unknown, actor: Actor): Promise<'created' | 'updated' | 'unchanged'> {
    const input = this.parse(raw);
    const current = await store.saml.connections.get(input.id);
    if (!current) {
      await this.create(store, raw, actor, undefined, { declared: true });
      return 'created';
    }
    const same =
      current.displayName === input.displayName &&
      current.enabled === input.enabled &&
      current.declared &&
      JSON.stringify(current.settings) === JSON.stringify(storedSettings(input));
    if (same) return 'unchanged';
    const { id: _id, ...patch } = raw as SamlConnectionInput;
    await this.update(store, input.id, patch, actor, undefined, { declared: true });
    return 'updated';
  }

  async remove(store: TenantStore, id: string, actor: Actor, origin?: RequestOrigin): Promise<void> {
    await store.transaction(async (trx) => {
      if (!(await trx.saml.connections.delete(id))) throw notFound('saml.not_found', `no SAML connection "${id}" in tenant "${store.tenantId}"`);
      await trx.bumpRevision();
      // Users that came from the connection stay (their subjects, consents and audit history
      // keep meaning); they can no longer sign in through it.
      await this.deps.audit.record(trx, { actor, origin, action: 'saml.connection_deleted', target: { type: 'saml_connection', id }, outcome: 'success' });
    });
  }

  /**
   * Fetches a URL connection's metadata again. New signing certificates are trusted and removed
   * ones stop being trusted at once: a partner rolling its key over publishes both for a while,
   * and both verify until the old one leaves its metadata. A failed fetch keeps the partner as it
   * was (a partner's outage must not break sign-in) and is retried sooner.
   */
  async refreshMetadata(store: TenantStore, id: string, actor: Actor = SYSTEM): Promise<{ changed: boolean }> {
    const current = await this.get(store, id);
    const url = current.settings.idp.metadataUrl;
    if (!url) throw new GatehouseError('saml.no_metadata_url', `SAML connection "${id}" has no metadata URL`);
    const now = this.deps.clock.now();
    try {
      const { idp, refreshAt } = await this.resolveIdp(this.parse(inputOf(current)), current.idp, { tolerateFetchFailure: false });
      const before = current.idp.signingCertificates.map(certificateFingerprint);
      const after = idp.signingCertificates.map(certificateFingerprint);
      const changed = JSON.stringify({ ...current.idp, metadataFetchedAt: 0, metadataError: undefined }) !== JSON.stringify({ ...idp, metadataFetchedAt: 0, metadataError: undefined });
      await store.transaction(async (trx) => {
        await trx.saml.connections.update(id, { idp, metadataRefreshAt: refreshAt });
        if (changed) {
          await trx.bumpRevision();
          await this.deps.audit.record(trx, {
            actor,
            action: 'saml.metadata_refreshed',
            target: { type: 'saml_connection', id },
            outcome: 'success',
            details: { url, certificatesAdded: after.filter((f) => !before.includes(f)), certificatesRemoved: before.filter((f) => !after.includes(f)) },
          });
        }
      });
      return { changed };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await store.transaction(async (trx) => {
        await trx.saml.connections.update(id, {
          idp: { ...current.idp, metadataError: message.slice(0, 500) },
          metadataRefreshAt: now + Math.min(RETRY_AFTER_FAILURE_MS, current.settings.idp.metadataRefreshSeconds * 1000),
        });
        await this.deps.audit.record(trx, {
          actor,
          action: 'saml.metadata_refresh_failed',
          target: { type: 'saml_connection', id },
          outcome: 'failure',
          reason: error instanceof GatehouseError ? error.code : 'error',
          details: { url, error: message.slice(0, 500) },
        });
      });
      this.deps.logger.warn({ tenant: store.tenantId, connection: id, reason: message }, 'SAML metadata refresh failed; the partner stays as it was');
      throw error;
    }
  }

  /** The maintenance job: refreshes every connection whose metadata is due, in every tenant. */
  async refreshDueMetadata(store: Store, limit = 50): Promise<{ refreshed: number; failed: number }> {
    let refreshed = 0;
    let failed = 0;
    for (const due of await store.samlConnectionsDueForMetadataRefresh(limit)) {
      try {
        await this.refreshMetadata(store.forTenant(due.tenantId), due.connectionId);
        refreshed++;
      } catch {
        failed++; // recorded in the audit log and the log by refreshMetadata
      }
    }
    return { refreshed, failed };
  }

  private async checkReferences(store: TenantStore, input: SamlConnectionInputParsed): Promise<void> {
    if (input.defaultApp && !(await store.clients.get(input.defaultApp))) {
      throw new GatehouseError('saml.unknown_app', `defaultApp "${input.defaultApp}" is not an app of this tenant`);
    }
    for (const other of await store.saml.connections.list()) {
      if (other.id === input.id) continue;
      const shared = input.domains.filter((d) => other.settings.domains.includes(d));
      if (shared.length) throw new GatehouseError('saml.domain_claimed', `domain ${shared.join(', ')} is already claimed by SAML connection "${other.id}"`, { status: 409 });
    }
  }

  /** The partner from metadata (file or URL) with hand-set values over it, or from hand-set values alone. */
  private async resolveIdp(
    input: SamlConnectionInputParsed,
    previous: SamlIdpDescriptor | undefined,
    options: { tolerateFetchFailure: boolean },
  ): Promise<{ idp: SamlIdpDescriptor; refreshAt: number | undefined }> {
    const now = this.deps.clock.now();
    const source = input.idp;
    let parsed: ParsedIdpMetadata | undefined;
    let metadataError: string | undefined;
    let refreshAt: number | undefined;
    if (source.metadataXml) {
      parsed = parseIdpMetadata(source.metadataXml, { entityId: source.entityId, now });
    } else if (source.metadataUrl) {
      refreshAt = now + source.metadataRefreshSeconds * 1000;
      try {
        parsed = parseIdpMetadata(await this.fetcher.fetch(source.metadataUrl), { entityId: source.entityId, now });
      } catch (error) {
        if (!options.tolerateFetchFailure) throw error;
        metadataError = (error as Error).message;
        refreshAt = now + RETRY_AFTER_FAILURE_MS;
        this.deps.logger.warn({ connection: input.id, reason: metadataError }, 'SAML metadata could not be fetched; retrying later');
      }
    }
    const base = parsed ?? (previous && metadataError ? previous : undefined);
    const idp: SamlIdpDescriptor = {
      entityId: source.entityId ?? base?.entityId,
      signingCertificates: source.signingCertificates?.map(toCertificatePem) ?? base?.signingCertificates ?? [],
      sso: source.ssoUrl ? [{ binding: source.ssoBinding ?? 'redirect', url: source.ssoUrl }] : (base?.sso ?? []),
      slo: source.sloUrl
        ? [{ binding: source.sloBinding ?? 'redirect', url: source.sloUrl, ...(source.sloResponseUrl ? { responseUrl: source.sloResponseUrl } : {}) }]
        : (base?.slo ?? []),
      source: source.metadataUrl ? 'metadata-url' : source.metadataXml ? 'metadata-xml' : 'manual',
      ...(parsed && source.metadataUrl ? { metadataFetchedAt: now } : {}),
      ...(metadataError ? { metadataError } : {}),
    };
    for (const pem of idp.signingCertificates) {
      try {
        certificateFingerprint(pem);
      } catch {
        throw new GatehouseError('saml.invalid', 'idp.signingCertificates: a certificate cannot be read');
      }
    }
    return { idp, refreshAt };
  }
}

/** The stored settings: the input without the identity fields and the metadata document (its digest instead). */
function storedSettings(input: SamlConnectionInputParsed): SamlConnectionSettings {
  const { id: _id, displayName: _d, enabled: _e, idp, ...rest } = input;
  const { metadataXml, ...idpRest } = idp;
  return { ...rest, idp: { ...idpRest, ...(metadataXml ? { metadataXmlSha256: createHash('sha256').update(metadataXml).digest('hex') } : {}) } };
}

/** Input that re-creates a stored connection (the metadata document is replaced by the resolved values). */
function inputOf(connection: SamlConnectionRecord): SamlConnectionInput {
  const { idp, ...rest } = connection.settings;
  const { metadataXmlSha256, ...idpSettings } = idp;
  const fromDocument = metadataXmlSha256
    ? {
        entityId: connection.idp.entityId,
        ssoUrl: connection.idp.sso[0]?.url,
        ssoBinding: connection.idp.sso[0]?.binding,
        sloUrl: idpSettings.sloUrl ?? connection.idp.slo[0]?.url,
        sloBinding: idpSettings.sloBinding ?? connection.idp.slo[0]?.binding,
        sloResponseUrl: idpSettings.sloResponseUrl ?? connection.idp.slo[0]?.responseUrl,
        signingCertificates: connection.idp.signingCertificates,
      }
    : {};
  return { ...rest, id: connection.id, displayName: connection.displayName, enabled: connection.enabled, idp: { ...idpSettings, ...stripUndefined(fromDocument) } } as SamlConnectionInput;
}

function mergeIdp(current: SamlConnectionRecord, patch: SamlConnectionPatch['idp']): SamlConnectionInput['idp'] {
  const base = inputOf(current).idp;
  if (!patch) return base;
  // New metadata replaces everything that came from the old metadata.
  if (patch.metadataXml || patch.metadataUrl || patch.metadataFile) {
    const { metadataXml: _x, metadataUrl: _u, metadataFile: _f, entityId: _en, ssoUrl: _s, ssoBinding: _sb, sloUrl: _l, sloBinding: _lb, sloResponseUrl: _lr, signingCertificates: _c, ...kept } = base;
    return { ...kept, ...patch } as SamlConnectionInput['idp'];
  }
  return { ...base, ...patch } as SamlConnectionInput['idp'];
}

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
