import { GatehouseError, notFound } from '../errors/gatehouse-error.js';
import { formatZodError } from '../config/zod-messages.js';
import { digestSecret, generateSecret, randomId } from '../crypto/secrets.js';
import { isUniqueViolation } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { ClientRecord, ClientSettings } from '../store/repositories/client-repository.js';
import type { AuditLog, Actor, RequestOrigin } from '../audit/audit-log.js';
import { clientInputSchema, TOKEN_EXCHANGE_GRANT, type ClientInput, type ClientInputParsed } from './client-schema.js';
import { jwksUriProblem } from './jwks-uri-policy.js';
import type { TokenExchangePolicy } from '../tokens/token-exchange-policy.js';

export interface CreatedClient {
  client: ClientRecord;
  /** The plaintext secret, shown once; only its digest is stored. */
  secret: string | undefined;
}

function defaultGrantTypes(input: ClientInputParsed): string[] {
  if (input.type === 'public') return ['authorization_code', 'refresh_token'];
  const base = input.redirectUris.length > 0 ? ['authorization_code', 'refresh_token'] : ['client_credentials'];
  return input.tokenExchange ? [...base, TOKEN_EXCHANGE_GRANT] : base;
}

function defaultAuthMethod(input: ClientInputParsed): ClientSettings['tokenEndpointAuthMethod'] {
  if (input.type === 'public') return 'none';
  return input.jwks || input.jwksUri ? 'private_key_jwt' : 'client_secret_basic';
}

const usesSecret = (method: string) => method === 'client_secret_basic' || method === 'client_secret_post';

/** Apps (OAuth clients) of a tenant. Every change bumps the tenant revision and is audited. */
export interface ClientServiceOptions {
  /** config `clients.allowInsecureLoopbackJwksUri` (development and tests only). */
  allowInsecureLoopbackJwksUri?: boolean;
}

export class ClientService {
  constructor(
    private readonly audit: AuditLog,
    private readonly options: ClientServiceOptions = {},
  ) {}

  parse(input: ClientInput): ClientInputParsed {
    const parsed = clientInputSchema.safeParse(input);
    if (!parsed.success) throw new GatehouseError('client.invalid', formatZodError('', parsed.error));
    const jwksUri = parsed.data.jwksUri;
    const problem = jwksUri === undefined ? undefined : jwksUriProblem(jwksUri, this.options.allowInsecureLoopbackJwksUri ?? false);
    if (problem) throw new GatehouseError('client.invalid', `jwksUri: ${problem}`);
    return parsed.data;
  }

  /** The APIs and scopes named by a grant or policy must exist in the tenant. */
  private async checkResourceGrants(store: TenantStore, grants: Array<{ resource: string; scopes: string[] }>): Promise<void> {
    for (const grant of grants) {
      const api = await store.resourceServers.get(grant.resource);
      if (!api) throw new GatehouseError('client.unknown_resource', `no API "${grant.resource}" in this tenant; create it first`);
      const unknown = grant.scopes.filter((s) => !api.settings.scopes.includes(s));
      if (unknown.length) {
        throw new GatehouseError('client.unknown_scope', `API "${grant.resource}" has no scope ${unknown.map((s) => `"${s}"`).join(', ')}`);
      }
    }
  }

  private async settingsFor(store: TenantStore, input: ClientInputParsed, declared: boolean): Promise<ClientSettings> {
    const grantTypes = input.grantTypes ?? defaultGrantTypes(input);
    const tokenEndpointAuthMethod = input.tokenEndpointAuthMethod ?? defaultAuthMethod(input);
    await this.checkResourceGrants(store, input.resources);
    if (input.tokenExchange) await this.checkResourceGrants(store, input.tokenExchange.resources);
    return {
      grantTypes,
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
      backchannelLogoutUri: input.backchannelLogoutUri,
      firstParty: input.firstParty,
      scopes: [...new Set(['openid', ...input.scopes])],
      resources: input.resources,
      tokenEndpointAuthMethod,
      jwks: input.jwks as ClientSettings['jwks'],
      jwksUri: input.jwksUri,
      initiateLoginUri: input.initiateLoginUri,
      ...(input.tokenExchange ? { tokenExchange: input.tokenExchange } : {}),
      ...(declared ? { declared: true } : {}),
    };
  }

  async create(store: TenantStore, raw: ClientInput, actor: Actor, origin?: RequestOrigin, options: { declared?: boolean } = {}): Promise<CreatedClient> {
    const input = this.parse(raw);
    const settings = await this.settingsFor(store, input, options.declared ?? false);
    const needsSecret = input.type === 'confidential' && usesSecret(settings.tokenEndpointAuthMethod);
    const secret = needsSecret && !input.secretDigest ? (input.secret ?? generateSecret()) : undefined;
    const secretDigest = input.secretDigest ?? (secret ? digestSecret(secret) : undefined);
    const clientId = input.clientId ?? `app-${randomId(9).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
    if (clientId.startsWith('gatehouse-')) {
      throw new GatehouseError('client.reserved_id', 'client ids starting with "gatehouse-" are reserved for Gatehouse\'s own apps');
    }
    try {
      const client = await store.transaction(async (trx) => {
        const created = await trx.clients.insert({ clientId, name: input.name, type: input.type, secretDigest, settings });
        await trx.bumpRevision();
        await this.audit.record(trx, {
          actor,
          origin,
          action: 'client.created',
          target: { type: 'client', id: clientId },
          outcome: 'success',
          details: { type: input.type, grantTypes: settings.grantTypes, authMethod: settings.tokenEndpointAuthMethod },
        });
        return created;
      });
      // A secret given in input (configuration) is not echoed back: its owner has it already.
      return { client, secret: input.secret ? undefined : secret };
    } catch (error) {
      if (isUniqueViolation(error)) throw new GatehouseError('client.exists', `a client "${clientId}" already exists in this tenant`, { status: 409 });
      throw error;
    }
  }

  /** Replaces a client's settings (configuration apply); keeps its secret unless one is given. */
  async replace(store: TenantStore, raw: ClientInput & { clientId: string }, actor: Actor, options: { declared?: boolean } = {}): Promise<'unchanged' | 'updated'> {
    const input = this.parse(raw);
    const existing = await this.get(store, raw.clientId);
    const settings = await this.settingsFor(store, input, options.declared ?? false);
    const secretDigest = input.secretDigest ?? (input.secret ? digestSecret(input.secret) : existing.secretDigest);
    const same =
      JSON.stringify(existing.settings) === JSON.stringify(settings) &&
      existing.name === input.name &&
      existing.type === input.type &&
      existing.secretDigest === secretDigest;
    if (same) return 'unchanged';
    await store.transaction(async (trx) => {
      await trx.clients.update(raw.clientId, { name: input.name, type: input.type, settings, secretDigest });
      await trx.bumpRevision();
      await this.audit.record(trx, { actor, action: 'client.updated', target: { type: 'client', id: raw.clientId }, outcome: 'success' });
    });
    return 'updated';
  }

  async get(store: TenantStore, clientId: string): Promise<ClientRecord> {
    const client = await store.clients.get(clientId);
    if (!client) throw notFound('client.not_found', `no client "${clientId}" in tenant "${store.tenantId}"`);
    return client;
  }

  list(store: TenantStore): Promise<ClientRecord[]> {
    return store.clients.list();
  }

  async delete(store: TenantStore, clientId: string, actor: Actor, origin?: RequestOrigin): Promise<void> {
    await store.transaction(async (trx) => {
      if (!(await trx.clients.delete(clientId))) throw notFound('client.not_found', `no client "${clientId}" in tenant "${store.tenantId}"`);
      await trx.bumpRevision();
      await this.audit.record(trx, { actor, origin, action: 'client.deleted', target: { type: 'client', id: clientId }, outcome: 'success' });
    });
  }

  /**
   * Sets (or, with `undefined`, removes) an app's token exchange policy (RFC 8693), adding or
   * removing the token exchange grant type with it. Apps declared in configuration are changed
   * there, not here: the next start would undo the change.
   */
  async setTokenExchange(store: TenantStore, clientId: string, policy: TokenExchangePolicy | undefined, actor: Actor): Promise<ClientRecord> {
    const existing = await this.get(store, clientId);
    if (existing.settings.declared) {
      throw new GatehouseError('client.declared', `client "${clientId}" is declared in configuration; change its tokenExchange there`);
    }
    const others = existing.settings.grantTypes.filter((g) => g !== TOKEN_EXCHANGE_GRANT);
    const grantTypes = policy ? [...others, TOKEN_EXCHANGE_GRANT] : others;
    if (grantTypes.length === 0) throw new GatehouseError('client.invalid', `client "${clientId}" would have no grant type left`);
    const input = this.parse({
      clientId,
      name: existing.name,
      type: existing.type,
      grantTypes: grantTypes as ClientInput['grantTypes'],
      redirectUris: existing.settings.redirectUris,
      postLogoutRedirectUris: existing.settings.postLogoutRedirectUris,
      backchannelLogoutUri: existing.settings.backchannelLogoutUri,
      firstParty: existing.settings.firstParty,
      scopes: existing.settings.scopes,
      resources: existing.settings.resources,
      tokenEndpointAuthMethod: existing.settings.tokenEndpointAuthMethod as ClientInput['tokenEndpointAuthMethod'],
      jwks: existing.settings.jwks as ClientInput['jwks'],
      jwksUri: existing.settings.jwksUri,
      tokenExchange: policy,
    });
    const settings = await this.settingsFor(store, input, false);
    await store.transaction(async (trx) => {
      await trx.clients.update(clientId, { settings });
      await trx.bumpRevision();
      await this.audit.record(trx, {
        actor,
        action: 'client.token_exchange_set',
        target: { type: 'client', id: clientId },
        outcome: 'success',
        details: { resources: policy?.resources ?? [], subjectAudiences: policy?.subjectAudiences },
      });
    });
    return this.get(store, clientId);
  }

  /** A new secret replaces the old one at once; it is returned once. */
  async rotateSecret(store: TenantStore, clientId: string, actor: Actor): Promise<string> {
    const client = await this.get(store, clientId);
    if (!client.secretDigest) throw new GatehouseError('client.no_secret', `client "${clientId}" does not authenticate with a secret`);
    const secret = generateSecret();
    await store.transaction(async (trx) => {
      await trx.clients.update(clientId, { secretDigest: digestSecret(secret) });
      await trx.bumpRevision();
      await this.audit.record(trx, { actor, action: 'client.secret_rotated', target: { type: 'client', id: clientId }, outcome: 'success' });
    });
    return secret;
  }
}
