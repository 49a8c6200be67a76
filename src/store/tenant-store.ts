import type { CompiledQuery, Kysely } from 'kysely';
import type { Database, TenantsTable } from './database.js';
import type { Clock } from '../clock.js';
import { tenantFromRow, type TenantRecord } from './repositories/tenant-registry.js';
import { ClientRepository } from './repositories/client-repository.js';
import { ResourceServerRepository } from './repositories/resource-server-repository.js';
import { SigningKeyRepository } from './repositories/signing-key-repository.js';
import { UserRepository } from './repositories/user-repository.js';
import { GroupRepository } from './repositories/group-repository.js';
import { OidcPayloadRepository } from './repositories/oidc-payload-repository.js';
import { AuditRepository } from './repositories/audit-repository.js';
import { ThrottleRepository } from './repositories/throttle-repository.js';
import { MfaRepository } from './repositories/mfa-repository.js';
import { SamlRepositories } from './repositories/saml-repositories.js';
import { LdapConnectionRepository } from './repositories/ldap-connection-repository.js';
import { DirectoryChangeRepository } from './repositories/directory-change-repository.js';
import { WebhookRepository } from './repositories/webhook-repository.js';
import { SyncRepository } from './repositories/sync-repository.js';

/**
 * Everything stored for one tenant, bound to that tenant at construction. Its query builder
 * carries the TenantScopeGuard, and on PostgreSQL its connections carry the tenant setting that
 * row-level security checks, so a query of another tenant's rows fails twice.
 */
export class TenantStore {
  readonly clients: ClientRepository;
  readonly resourceServers: ResourceServerRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly users: UserRepository;
  readonly groups: GroupRepository;
  readonly oidc: OidcPayloadRepository;
  readonly audit: AuditRepository;
  readonly throttle: ThrottleRepository;
  readonly mfa: MfaRepository;
  readonly saml: SamlRepositories;
  readonly ldapConnections: LdapConnectionRepository;
  readonly directoryChanges: DirectoryChangeRepository;
  readonly webhooks: WebhookRepository;
  /** Directory sync: state and lease per LDAP connection, runs, ledger, retries. */
  readonly sync: SyncRepository;

  constructor(
    readonly tenantId: string,
    private readonly db: Kysely<Database>,
    readonly clock: Clock,
    /** A store's faster way to read one tenant row by id, when it has one (SQLite). */
    private readonly readTenantRow?: (tenantId: string) => TenantsTable | undefined,
  ) {
    this.clients = new ClientRepository(db, tenantId, clock);
    this.resourceServers = new ResourceServerRepository(db, tenantId, clock);
    this.signingKeys = new SigningKeyRepository(db, tenantId);
    this.users = new UserRepository(db, tenantId, clock);
    this.groups = new GroupRepository(db, tenantId, clock);
    this.oidc = new OidcPayloadRepository(db, tenantId, clock);
    this.audit = new AuditRepository(db, tenantId);
    this.throttle = new ThrottleRepository(db, tenantId);
    this.mfa = new MfaRepository(db, tenantId, clock);
    this.saml = new SamlRepositories(db, tenantId, clock);
    this.ldapConnections = new LdapConnectionRepository(db, tenantId, clock);
    this.directoryChanges = new DirectoryChangeRepository(db, tenantId, clock);
    this.webhooks = new WebhookRepository(db, tenantId, clock);
    this.sync = new SyncRepository(db, tenantId);
  }

  private tenantRowQuery: CompiledQuery<TenantsTable> | undefined;
  /** The last tenant record built, reused while the row's revision has not moved (no JSON or schema parse per request). */
  private lastTenant: TenantRecord | undefined;

  private fromRow(row: TenantsTable | undefined): TenantRecord | undefined {
    if (!row) return undefined;
    const cached = this.lastTenant;
    if (cached && cached.revision === Number(row.revision) && cached.status === row.status && cached.updatedAt === Number(row.updated_at)) return cached;
    this.lastTenant = tenantFromRow(row);
    return this.lastTenant;
  }

  /**
   * This tenant's own row (status, settings, revision). It is read on every request (that is
   * how changes made by other processes are seen), so the query is built and checked once per
   * handle and only executed after that.
   */
  async tenant(): Promise<TenantRecord | undefined> {
    if (this.readTenantRow && !this.db.isTransaction) return this.fromRow(this.readTenantRow(this.tenantId));
    this.tenantRowQuery ??= this.db.selectFrom('tenants').selectAll().where('id', '=', this.tenantId).compile();
    return this.fromRow((await this.db.executeQuery(this.tenantRowQuery)).rows[0]);
  }

  /**
   * Marks a change that caches of this tenant must notice (apps, APIs, keys, settings): every
   * server process compares the revision on each request and rebuilds what it holds when it moved.
   */
  async bumpRevision(): Promise<void> {
    await this.db
      .updateTable('tenants')
      .set((eb) => ({ revision: eb('revision', '+', 1), updated_at: this.clock.now() }))
      .where('id', '=', this.tenantId)
      .execute();
  }

  /** Runs `work` in one transaction: all of its writes happen, or none. */
  async transaction<T>(work: (store: TenantStore) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    return this.db.transaction().execute((trx) => work(new TenantStore(this.tenantId, trx, this.clock)));
  }
}
