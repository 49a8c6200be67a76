/**
 * Table types for the query builder. Times are epoch milliseconds in 64-bit integer columns
 * (int4 would overflow in 2038); JSON documents are text, parsed in the repositories, so one
 * code path serves SQLite and PostgreSQL.
 */
export interface TenantsTable {
  id: string;
  display_name: string;
  status: string;
  settings: string;
  /** Incremented with every change to the tenant, its apps, APIs or keys; caches compare it. */
  revision: number;
  created_at: number;
  updated_at: number;
}

export interface SigningKeysTable {
  tenant_id: string;
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_sealed: string;
  created_at: number;
  /** The key is published from creation and signs from this time on. */
  signs_from: number;
  /** It stops signing at this time (a newer key took over). */
  retired_at: number | null;
  /** It leaves the JWKS at this time: every token it signed has expired by then. */
  publish_until: number | null;
}

export interface ClientsTable {
  tenant_id: string;
  client_id: string;
  name: string | null;
  type: string;
  secret_digest: string | null;
  /** The validated client settings (clients/client-schema.ts) without any secret. */
  config: string;
  created_at: number;
  updated_at: number;
}

export interface ResourceServersTable {
  tenant_id: string;
  identifier: string;
  name: string | null;
  config: string;
  created_at: number;
  updated_at: number;
}

export interface UsersTable {
  tenant_id: string;
  id: string;
  username: string;
  email: string | null;
  email_verified: number;
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  phone: string | null;
  /** JSON of the OIDC address claim, when known. */
  address: string | null;
  status: string;
  password_hash: string | null;
  /** Where the user comes from: `local`, `ldap:<connection>`, `saml:<connection>`, `scim`. */
  source: string;
  /** The immutable id at the source (entryUUID, objectGUID, SAML NameID, SCIM externalId). */
  external_id: string | null;
  /** Further attributes as JSON (roles, custom claims). */
  attributes: string;
  created_at: number;
  updated_at: number;
}

export interface GroupsTable {
  tenant_id: string;
  id: string;
  name: string;
  display_name: string | null;
  source: string;
  external_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface GroupMembersTable {
  tenant_id: string;
  group_id: string;
  /** `user` or `group` (nested groups). */
  member_type: string;
  member_id: string;
}

export interface OidcPayloadsTable {
  tenant_id: string;
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  account_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface AuditEventsTable {
  tenant_id: string;
  /** Time-ordered id: 12 hex digits of milliseconds, then randomness. */
  id: string;
  occurred_at: number;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  reason: string | null;
  client_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: string | null;
}

export interface LdapConnectionsTable {
  tenant_id: string;
  /** The connection id (a slug); users and groups it brings in have source `ldap:<id>`. */
  id: string;
  display_name: string;
  /** Where the connection comes in the sign-in order (after local accounts), lowest first. */
  position: number;
  enabled: number;
  /** The validated connection settings (connectors/ldap/ldap-settings.ts) as JSON, no secret. */
  settings: string;
  /** The service account's password, sealed with SecretBox (tenant- and connection-bound). */
  bind_password_sealed: string | null;
  created_at: number;
  updated_at: number;
}

export interface Database {
  tenants: TenantsTable;
  signing_keys: SigningKeysTable;
  clients: ClientsTable;
  resource_servers: ResourceServersTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  oidc_payloads: OidcPayloadsTable;
  audit_events: AuditEventsTable;
  ldap_connections: LdapConnectionsTable;
}

/** Tenant-owned tables (all keyed by tenant_id). */
export const TENANT_TABLES = [
  'signing_keys',
  'clients',
  'resource_servers',
  'users',
  'groups',
  'group_members',
  'oidc_payloads',
  'audit_events',
  'ldap_connections',
] as const satisfies ReadonlyArray<keyof Database>;
