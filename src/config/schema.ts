import { z } from 'zod';
import { tenantIdSchema, TENANT_STATUSES } from '../tenants/tenant-id.js';
import { tenantSettingsSchema } from '../tenants/tenant-settings.js';
import { clientInputSchema } from '../clients/client-schema.js';
import { jwksUriProblem } from '../clients/jwks-uri-policy.js';
import { resourceServerInputSchema } from '../tokens/resource-server-schema.js';
import { samlConnectionInputSchema } from '../connectors/saml/saml-connection-schema.js';
import { ldapConnectionInputSchema } from '../connectors/ldap/ldap-settings.js';
import { webhookInputSchema } from '../directory/webhooks/webhook-service.js';

/**
 * The whole configuration, one strict schema per section: an unknown key is an error (a typo
 * must not silently fall back to a default). Defaults are documented where they are set, and
 * `config/default.yaml` repeats them for readers.
 */

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

export const serverSchema = z.strictObject({
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  host: z.string().default('0.0.0.0'),
  /** The URL people and apps use to reach Gatehouse; issuers are `<publicUrl>/t/<tenant>`. */
  publicUrl: z
    .url({ protocol: /^https?$/, message: 'the public URL is an http(s) URL such as https://id.example.com' })
    .refine((u) => !URL.canParse(u) || (!new URL(u).search && !new URL(u).hash), { message: 'the public URL must not have a query or fragment' })
    .transform((u) => u.replace(/\/+$/, ''))
    .default('http://localhost:3000'),
  /** Trust X-Forwarded-* headers (only behind a reverse proxy that sets them). */
  trustProxy: z.boolean().default(false),
  /** On SIGTERM: how long in-flight requests may take before the process exits anyway. */
  shutdownGraceMs: z.number().int().min(0).max(120000).default(10000),
});

export const databaseSchema = z.strictObject({
  /** `sqlite:<path>` (default, embedded) or `postgres://...`. */
  url: z
    .string()
    .refine((u) => u.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(u), {
      message: 'the database URL starts with sqlite: or postgres://',
    })
    .default('sqlite:./data/gatehouse.db'),
  postgres: z
    .strictObject({
      /**
       * The role the application switches to (SET ROLE) after connecting, so that row-level
       * security applies even when the connection user owns the tables or is a superuser.
       */
      appRole: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('gatehouse_app'),
      poolSize: z.number().int().min(1).max(200).default(10),
    })
    .default({ appRole: 'gatehouse_app', poolSize: 10 }),
});

export const loggingSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const keysSchema = z.strictObject({
  /** Directory holding the master key file (`master.key`) when none is given in the environment. */
  dir: z.string().default('keys'),
  /** Generate a development master key into `dir` on a fresh install (with a loud warning). */
  generateDevMasterKey: z.boolean().default(true),
  /** Base64 of 32 bytes; from GATEHOUSE_MASTER_KEY only, never written in a file of config. */
  masterKey: z.string().optional(),
  /** Algorithms each tenant signs with; the first is the default for ID tokens and access tokens. */
  algorithms: z.array(z.enum(['ES256', 'RS256', 'PS256', 'EdDSA'])).min(1).default(['ES256', 'RS256']),
  /**
   * How long a new key is published in the JWKS before it signs anything, so that verifiers
   * that cache the JWKS see it first. Verifiers built with gatehouse/verify refetch on an
   * unknown kid, so this can be short; an hour covers common JWKS caches.
   */
  publishAheadSeconds: seconds(0, 30 * 86400).default(3600),
});

export const tokensSchema = z.strictObject({
  /** Lifetimes in seconds. Short by default; each resource server may set its own access token lifetime. */
  accessTokenTtl: seconds(30, 86400).default(600),
  clientCredentialsTtl: seconds(30, 86400).default(600),
  idTokenTtl: seconds(30, 86400).default(600),
  authorizationCodeTtl: seconds(10, 600).default(60),
  refreshTokenTtl: seconds(300, 365 * 86400).default(14 * 86400),
  sessionTtl: seconds(300, 365 * 86400).default(14 * 86400),
  interactionTtl: seconds(60, 3600).default(600),
  /** Clock skew tolerated when checking tokens and assertions from others. */
  clockToleranceSeconds: seconds(0, 300).default(15),
});

export const tenantPoolSchema = z.strictObject({
  /** Live oidc-provider instances kept in memory; the rest are rebuilt on demand (1 to 3 ms each). */
  maxLiveTenants: z.number().int().min(1).max(1_000_000).default(1000),
});

export const maintenanceSchema = z.strictObject({
  /** How often expired sessions, codes, tokens and counters are purged. 0 turns the purge off. */
  purgeIntervalSeconds: seconds(0, 86400).default(60),
});

export const directorySchema = z.strictObject({
  /**
   * How long the directory change feed keeps changes. A consumer further behind than this gets
   * `directory.cursor_expired` and reads the directory again (SCIM) before following the feed.
   */
  changeRetentionDays: z.number().int().min(1).max(3650).default(30),
});

export const webhooksSchema = z.strictObject({
  /** Run the background dispatcher in this process (every process may: deliveries are leased). */
  dispatcherEnabled: z.boolean().default(true),
  /** How often the dispatcher looks for new changes and due retries. */
  pollIntervalMs: z.number().int().min(50).max(60000).default(1000),
  /** Deliveries attempted per tenant per round, and how many at once. */
  batchSize: z.number().int().min(1).max(1000).default(50),
  concurrency: z.number().int().min(1).max(64).default(4),
  /** One attempt's time limit; a receiver slower than this counts as failed. */
  requestTimeoutMs: z.number().int().min(100).max(60000).default(10000),
  /** How long a dispatcher holds a delivery it attempts; longer than the request time limit. */
  leaseSeconds: z.number().int().min(5).max(3600).default(60),
  /** Attempts before a delivery is given up (then `failed` in the delivery log). */
  maxAttempts: z.number().int().min(1).max(100).default(12),
  /** Retry delays double from the base up to the cap (with jitter): 10 s, 20 s, ... 1 h. */
  retryBaseSeconds: z.number().int().min(1).max(3600).default(10),
  retryMaxSeconds: z.number().int().min(1).max(86400).default(3600),
  /** Delivered and given-up deliveries are kept this long in the delivery log. */
  deliveryRetentionDays: z.number().int().min(1).max(365).default(14),
  /**
   * Allow `http://` webhook URLs. Off by default: deliveries carry directory data and must be
   * encrypted in transit. Meant for development and tests only.
   */
  allowInsecureHttpUrls: z.boolean().default(false),
});

export const clientsSchema = z.strictObject({
  /**
   * DEVELOPMENT AND TESTS ONLY. Lets apps register a `jwks_uri` on a loopback host
   * (127.0.0.1, localhost, [::1]), over http or https, and lets the provider fetch it: by default
   * such URIs are refused at registration and oidc-provider's SSRF guard refuses to connect to
   * them. Refused when server.publicUrl is https (a production deployment).
   */
  allowInsecureLoopbackJwksUri: z.boolean().default(false),
});

export const outboundSchema = z.strictObject({
  /**
   * Let Gatehouse's outgoing requests to addresses that tenant admins configure (back-channel
   * logout to apps, apps' jwks_uri, SAML metadata URLs, webhooks) reach private, loopback and
   * link-local addresses. Off by default: in a shared deployment a tenant admin could otherwise
   * make Gatehouse probe its internal network (SSRF). Turn it on for an on-premises installation
   * whose apps and partners live on a private network.
   */
  allowPrivateNetworks: z.boolean().default(false),
});

export const syncSchema = z.strictObject({
  /** Run the directory sync scheduler in this process (every process may: runs take a lease). */
  schedulerEnabled: z.boolean().default(true),
  /** How often the scheduler looks for connections whose next run is due. */
  pollIntervalSeconds: z.number().int().min(1).max(3600).default(30),
  /**
   * How long a run's lease lasts without renewal (renewed every third of it while the run
   * lives). A run killed without a trace blocks its connection at most this long; a run whose
   * process is gone on this host is taken over at once.
   */
  leaseSeconds: z.number().int().min(5).max(3600).default(60),
});

export const demoSchema = z.strictObject({
  /** Create a `demo` tenant with a demo client when the database has no tenant yet. */
  enabled: z.boolean().default(true),
  tenantId: tenantIdSchema.default('demo'),
});

/** Tenants declared in configuration, applied idempotently at every start (GitOps). */
export const declaredTenantSchema = z.strictObject({
  id: tenantIdSchema,
  displayName: z.string().min(1).max(200),
  status: z.enum(TENANT_STATUSES).default('active'),
  settings: tenantSettingsSchema.optional(),
  clients: z.array(clientInputSchema.and(z.object({ clientId: z.string() }))).default([]),
  resources: z.array(resourceServerInputSchema).default([]),
  /** SAML partner identity providers (connectors/saml/saml-connection-schema.ts). */
  samlConnections: z.array(samlConnectionInputSchema).default([]),
  /** LDAP / Active Directory connections (connectors/ldap/ldap-settings.ts); bindPassword from ${VAR}. */
  ldap: z.array(ldapConnectionInputSchema).default([]),
  /** Webhook subscriptions; `id` and `secret` (from the environment: `${VAR}`) are required here. */
  webhooks: z.array(webhookInputSchema.extend({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), secret: z.string().min(24).max(256) })).default([]),
});

export const configSchema = z.strictObject({
  server: serverSchema.default(serverSchema.parse({})),
  database: databaseSchema.default(databaseSchema.parse({})),
  logging: loggingSchema.default(loggingSchema.parse({})),
  keys: keysSchema.default(keysSchema.parse({})),
  tokens: tokensSchema.default(tokensSchema.parse({})),
  tenantPool: tenantPoolSchema.default(tenantPoolSchema.parse({})),
  maintenance: maintenanceSchema.default(maintenanceSchema.parse({})),
  directory: directorySchema.default(directorySchema.parse({})),
  webhooks: webhooksSchema.default(webhooksSchema.parse({})),
  sync: syncSchema.default(syncSchema.parse({})),
  demo: demoSchema.default(demoSchema.parse({})),
  clients: clientsSchema.default(clientsSchema.parse({})),
  outbound: outboundSchema.default(outboundSchema.parse({})),
  tenants: z.array(declaredTenantSchema).default([]),
}).superRefine((config, ctx) => {
  if (config.clients.allowInsecureLoopbackJwksUri && config.server.publicUrl.startsWith('https:')) {
    ctx.addIssue({
      code: 'custom',
      path: ['clients', 'allowInsecureLoopbackJwksUri'],
      message: 'is for development and tests only and cannot be used with an https server.publicUrl',
    });
  }
  config.tenants.forEach((tenant, t) =>
    tenant.clients.forEach((client, c) => {
      const problem = client.jwksUri === undefined ? undefined : jwksUriProblem(client.jwksUri, config.clients.allowInsecureLoopbackJwksUri);
      if (problem) ctx.addIssue({ code: 'custom', path: ['tenants', t, 'clients', c, 'jwksUri'], message: problem });
    }),
  );
});

export type GatehouseConfig = z.output<typeof configSchema>;
export type DeclaredTenant = z.output<typeof declaredTenantSchema>;
