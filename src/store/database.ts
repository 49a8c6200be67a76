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
  /** Incremented with every change to the user (SCIM meta.version and ETag). */
  version: number;
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
  /** Incremented with every change to the group, its direct members included. */
  version: number;
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

export interface SigninThrottleTable {
  tenant_id: string;
  /** `account:<username>` or `ip:<address>`. */
  key: string;
  failures: number;
  first_failed_at: number;
  last_failed_at: number;
  locked_until: number | null;
  /** When the row may be purged (the failure window has passed and no lock is running). */
  expires_at: number;
}

export interface MfaFactorsTable {
  tenant_id: string;
  id: string;
  user_id: string;
  /** `totp` (and later `webauthn`). */
  type: string;
  label: string;
  /** The factor's secret, sealed with the master key (envelope encryption). */
  secret_sealed: string;
  /** 0 while enrollment waits for a first correct code. */
  confirmed: number;
  /** The last accepted TOTP time step: a code of this step or earlier is a replay. */
  last_used_step: number | null;
  created_at: number;
  last_used_at: number | null;
}

export interface MfaRecoveryCodesTable {
  tenant_id: string;
  user_id: string;
  /** HMAC-SHA256 of the code under a key derived from the master key. */
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

/** A SAML partner identity provider of a tenant (connectors/saml/). */
export interface SamlConnectionsTable {
  tenant_id: string;
  id: string;
  display_name: string;
  enabled: number;
  /** The validated connection settings (connectors/saml/saml-connection-schema.ts) as JSON. */
  settings: string;
  /** The partner as Gatehouse trusts it (entity id, pinned certificates, endpoints) as JSON. */
  idp: string;
  /** Gatehouse's own certificates for this connection (public) as JSON. */
  sp_certificates: string;
  /** The private keys of those certificates, sealed (tenant + connection bound). */
  sp_keys_sealed: string;
  /** When metadata from a URL is next fetched; null for metadata given by file or by hand. */
  metadata_refresh_at: number | null;
  created_at: number;
  updated_at: number;
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

/**
 * Short-lived SAML protocol state: AuthnRequests and LogoutRequests we sent and have not seen
 * answered, and validated sign-ins waiting for the browser's same-site hop. Single use
 * (`consumed_at`), expiring.
 */
export interface SamlMessagesTable {
  tenant_id: string;
  id: string;
  connection_id: string;
  kind: string;
  payload: string;
  expires_at: number;
  consumed_at: number | null;
  created_at: number;
}

/** Replay cache: ids of assertions accepted, kept until the assertion could no longer be used. */
export interface SamlAssertionIdsTable {
  tenant_id: string;
  connection_id: string;
  assertion_id: string;
  received_at: number;
  expires_at: number;
}

/** A person's session at a SAML partner (NameID + SessionIndex), for single logout. */
export interface SamlSessionsTable {
  tenant_id: string;
  id: string;
  connection_id: string;
  account_id: string;
  name_id: string;
  name_id_format: string | null;
  name_qualifier: string | null;
  sp_name_qualifier: string | null;
  session_index: string | null;
  created_at: number;
  expires_at: number;
}

/** The last directory change number handed out in a tenant (one row per tenant). */
export interface DirectorySequencesTable {
  tenant_id: string;
  last_seq: number;
}

/** The directory change feed: one row per change, numbered without gaps per tenant. */
export interface DirectoryChangesTable {
  tenant_id: string;
  seq: number;
  occurred_at: number;
  /** `user` or `group`. */
  object_type: string;
  object_id: string;
  /** `created`, `updated`, `deleted`, `member_added`, `member_removed`. */
  kind: string;
  /** The object's version after the change. */
  version: number;
  actor_type: string;
  actor_id: string | null;
  /** What made the change: `scim`, `cli`, `sign-in`, `sync:<connection>`, `config`. */
  via: string;
  /** JSON array of the attributes an update changed. */
  changed: string | null;
  /** JSON: the object's state after the change (before it, for a deletion), or the member. */
  data: string | null;
}

export interface WebhookSubscriptionsTable {
  tenant_id: string;
  id: string;
  url: string;
  description: string | null;
  /** JSON array of event filters (`user.created`, `group.*`, `*`). */
  events: string;
  /** The HMAC signing secret, sealed with SecretBox (tenant- and subscription-bound). */
  secret_sealed: string;
  enabled: number;
  /** 1 when the subscription comes from the configuration file. */
  declared: number;
  /** Changes up to this sequence number have been turned into deliveries. */
  enqueued_seq: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveriesTable {
  tenant_id: string;
  id: string;
  subscription_id: string;
  seq: number;
  /** Deliveries with the same key (one directory object) go out one at a time, in seq order. */
  ordering_key: string;
  event_type: string;
  /** The exact JSON body that is signed and sent on every attempt. */
  payload: string;
  /** `pending`, `delivered`, `failed` (gave up after the last attempt). */
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  /** The dispatcher that holds the delivery, until `lease_until`. */
  lease_owner: string | null;
  lease_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface WebhookAttemptsTable {
  tenant_id: string;
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** Directory sync state of one LDAP connection (directory/sync/). */
export interface SyncStatesTable {
  tenant_id: string;
  connection_id: string;
  /** The process running the connection's sync, until `lease_until` (renewed while it runs). */
  lease_owner: string | null;
  lease_until: number | null;
  lease_run_id: string | null;
  /** The number of the last run started; the ledger's seen marks carry run numbers. */
  run_counter: number;
  last_started_at: number | null;
  last_success_at: number | null;
  last_full_at: number | null;
  /** The last run that listed the whole scope (full run or presence scan). */
  last_listing_at: number | null;
  /** JSON: the incremental high-water mark and the server it is valid on. */
  mark: string | null;
  /** The connection settings (scope and credentials) of the last run allowed to remove access. */
  settings_fingerprint: string | null;
  /** 1 when memberships changed and the users' roles must be derived again. */
  roles_dirty: number;
}

/** One sync run (or one that was interrupted): its progress while it runs, its report after. */
export interface SyncRunsTable {
  tenant_id: string;
  id: string;
  connection_id: string;
  number: number;
  /** `full` or `incremental`. */
  mode: string;
  /** `schedule` or `cli`. */
  triggered_by: string;
  actor_type: string;
  actor_id: string | null;
  /** `running`, `succeeded`, `failed`, `stopped` (needs confirmation), `interrupted`. */
  status: string;
  /** A stable code for runs that did not succeed (`sync.deletion_threshold`, ...). */
  reason: string | null;
  message: string | null;
  confirm_deletions: number;
  started_at: number;
  heartbeat_at: number;
  finished_at: number | null;
  /** JSON: phase and counts so far (updated while running). */
  progress: string | null;
  /** JSON: the run's report (counts, errors per object, what was held back). */
  report: string | null;
}

/** The sync ledger: which directory entry became which user or group of the tenant directory. */
export interface SyncObjectsTable {
  tenant_id: string;
  connection_id: string;
  /** `user` or `group`. */
  kind: string;
  /** The entry's immutable id (entryUUID, objectGUID). */
  external_id: string;
  /** The user's or group's id in the tenant directory. */
  object_id: string;
  dn: string;
  /** The normalised DN, to resolve group members. */
  dn_key: string;
  /** The number of the last run that saw the entry in the directory. */
  seen_run: number;
  /** When the entry was found gone (the object was disabled then); null while present. */
  missing_since: number | null;
}

/** Entries whose last sync failed: read again (by id) at the next run. */
export interface SyncRetriesTable {
  tenant_id: string;
  connection_id: string;
  kind: string;
  ref: string;
  dn: string;
  reason: string;
  attempts: number;
  first_failed_at: number;
  last_failed_at: number;
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
  signin_throttle: SigninThrottleTable;
  mfa_factors: MfaFactorsTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  saml_connections: SamlConnectionsTable;
  saml_messages: SamlMessagesTable;
  saml_assertion_ids: SamlAssertionIdsTable;
  saml_sessions: SamlSessionsTable;
  ldap_connections: LdapConnectionsTable;
  directory_sequences: DirectorySequencesTable;
  directory_changes: DirectoryChangesTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  sync_states: SyncStatesTable;
  sync_runs: SyncRunsTable;
  sync_objects: SyncObjectsTable;
  sync_retries: SyncRetriesTable;
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
  'signin_throttle',
  'mfa_factors',
  'mfa_recovery_codes',
  'saml_connections',
  'saml_messages',
  'saml_assertion_ids',
  'saml_sessions',
  'ldap_connections',
  'directory_sequences',
  'directory_changes',
  'webhook_subscriptions',
  'webhook_deliveries',
  'webhook_attempts',
  'sync_states',
  'sync_runs',
  'sync_objects',
  'sync_retries',
] as const satisfies ReadonlyArray<keyof Database>;
