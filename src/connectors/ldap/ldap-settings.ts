import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { FilterParser } from 'ldapts';
import { GatehouseError } from '../../errors/gatehouse-error.js';
import { formatZodError } from '../../config/zod-messages.js';
import { isValidDn } from './ldap-dn.js';
import { LDAP_PRESETS, PRESETS, type LdapPresetName } from './ldap-presets.js';
import { SYNC_DEFAULTS, syncSettingsField, syncSettingsPatchSchema } from './ldap-sync-settings.js';

/**
 * The settings of one LDAP connection of a tenant, validated at every boundary (CLI, config
 * file, store). The same settings serve sign-in (this issue) and directory sync (issue 8): where
 * the directory is, how to trust it, who Gatehouse binds as, where users and groups are and how
 * their attributes map to claims.
 */

/** A connection id is a slug: it appears in user sources (`ldap:<id>`) and in CLI arguments. */
export const LDAP_CONNECTION_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
export const ldapConnectionIdSchema = z
  .string()
  .regex(LDAP_CONNECTION_ID_PATTERN, 'a connection id is 1 to 40 lowercase letters, digits and hyphens, starting and ending with a letter or digit');

const dnSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .refine(isValidDn, { message: 'is not a valid distinguished name (RFC 4514), e.g. ou=people,dc=example,dc=com' });

/** Attribute descriptions (RFC 4512 §2.5): a name or an OID, with options such as `;binary`. */
const attributeSchema = z
  .string()
  .regex(/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-]+)*$/, 'is not an LDAP attribute name');

/** An admin-written search filter (RFC 4515), parsed once here; people's input never goes into one. */
const filterSchema = z
  .string()
  .trim()
  .refine(
    (f) => {
      try {
        FilterParser.parseString(f);
        return f.startsWith('(');
      } catch {
        return false;
      }
    },
    { message: 'is not an LDAP search filter (RFC 4515), e.g. (objectClass=inetOrgPerson)' },
  );

/**
 * A server URL (RFC 4516, scheme, host and port only). `ldaps://` is TLS from the first byte;
 * `ldap://` is upgraded with StartTLS (RFC 4513 §3) before any bind, unless the connection sets
 * the insecure plaintext option.
 */
export const serverUrlSchema = z
  .string()
  .trim()
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL such as ldaps://dc1.example.com` });
      return z.NEVER;
    }
    if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') {
      ctx.addIssue({ code: 'custom', message: `"${value}" must start with ldaps:// or ldap://` });
      return z.NEVER;
    }
    if (!url.hostname || url.username || url.password || (url.pathname && url.pathname !== '/') || url.search || url.hash) {
      ctx.addIssue({ code: 'custom', message: `"${value}" must be only a scheme, a host and an optional port` });
      return z.NEVER;
    }
    return `${url.protocol}//${url.host}`;
  });

/** PEM text holding one or more CA certificates; each must parse. */
const caPemSchema = z.string().refine(
  (pem) => {
    const blocks = splitPemCertificates(pem);
    if (blocks.length === 0) return false;
    try {
      for (const block of blocks) new X509Certificate(block);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a PEM certificate (-----BEGIN CERTIFICATE-----)' },
);

export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

const idFormat = z.enum(['uuid', 'guid', 'text']);
const scope = z.enum(['sub', 'one']);
const roleName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:._/-]{0,99}$/, 'a role is 1 to 100 letters, digits and : . _ / -');

/**
 * The service account. A DN, or on Active Directory a userPrincipalName (`svc@corp.example`)
 * or a down-level logon name (`CORP\svc`), which AD accepts as simple bind names.
 */
const bindDnSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .refine((v) => isValidDn(v) || /^[^@\s]+@[^@\s]+$/.test(v) || /^[^\\\s]+\\[^\\\s]+$/.test(v), {
    message: 'is not a DN, a userPrincipalName (svc@example.com) or DOMAIN\\name',
  });

const usersShape = {
  /** Where users are searched; the connection's baseDn when absent. */
  baseDn: dnSchema.optional(),
  scope,
  /** ANDed with the login attribute match; selects which entries are people who may sign in. */
  filter: filterSchema,
  /** What people type, matched exactly (OR of equality matches); at least one. */
  loginAttributes: z.array(attributeSchema).min(1),
};

const attributesShape = {
  /** The immutable id (anchor): entryUUID on OpenLDAP, objectGUID on AD. Never the DN. */
  id: attributeSchema,
  idFormat,
  username: attributeSchema,
  email: attributeSchema.optional(),
  displayName: attributeSchema.optional(),
  givenName: attributeSchema.optional(),
  familyName: attributeSchema.optional(),
  phone: attributeSchema.optional(),
};

const groupsShape = {
  /**
   * groupOfNames (member=<user DN>), groupOfUniqueNames (uniqueMember=<user DN>), posixGroup
   * (memberUid=<user's memberUidAttribute>), memberOf (the user's memberOf attribute), none.
   */
  mode: z.enum(['groupOfNames', 'groupOfUniqueNames', 'posixGroup', 'memberOf', 'none']),
  baseDn: dnSchema.optional(),
  scope,
  filter: filterSchema,
  /** walk: Gatehouse follows groups of groups level by level; in-chain: AD's transitive rule; none. */
  nested: z.enum(['walk', 'in-chain', 'none']),
  idAttribute: attributeSchema,
  idFormat,
  nameAttribute: attributeSchema,
  memberUidAttribute: attributeSchema,
  /** How deep nesting is followed; deeper than this is almost always a loop. */
  maxDepth: z.number().int().min(1).max(64),
};

const tlsShape = {
  /** CA certificates (PEM) that issue the servers' certificates; the system's CAs when empty. Verification is always on. */
  caCertificates: z.array(caPemSchema),
  /** The name the server certificate must carry when it differs from the host in the URL. */
  serverName: z.string().min(1).max(253).optional(),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']),
};

const timeoutsShape = {
  /**
   * TCP and TLS connection set-up per server. 1.5 s by default so that a dead server is given
   * up and the next one tried within 2 seconds (issue 4, resilience).
   */
  connectMs: z.number().int().min(100).max(30000),
  /** Each LDAP operation (bind, search); a slow server is cut off and the next one tried. */
  operationMs: z.number().int().min(100).max(120000),
};

const poolShape = {
  /** Service-bound connections kept open per connection (idle ones are reused; more are opened under load and closed after). */
  size: z.number().int().min(1).max(32),
  /** An idle pooled connection is closed after this long (servers and firewalls drop idle ones anyway). */
  idleMs: z.number().int().min(1000).max(3_600_000),
};

const roleMappingSchema = z.strictObject({ group: dnSchema, role: roleName });

const settingsShape = {
  preset: z.enum([...LDAP_PRESETS, 'custom']),
  servers: z.array(serverUrlSchema).min(1, 'at least one server'),
  baseDn: dnSchema,
  bindDn: bindDnSchema,
  tls: z.strictObject(tlsShape),
  /**
   * Allows `ldap://` servers without StartTLS, which sends the service account's and every
   * person's password in clear text over the network. Named so that nobody turns it on by
   * accident; only for a directory on the same host or a test.
   */
  dangerouslyAllowPlaintext: z.boolean(),
  users: z.strictObject(usersShape),
  attributes: z.strictObject(attributesShape),
  groups: z.strictObject(groupsShape),
  /** Group-to-role mapping by group DN (compared as DNs, RFC 4514/4517); roles go to the `roles` claim. */
  roles: z.array(roleMappingSchema),
  /** How account state is read before the password is checked (AD userAccountControl etc., OpenLDAP ppolicy). */
  accountStatus: z.enum(['active-directory', 'openldap-ppolicy', 'none']),
  timeouts: z.strictObject(timeoutsShape),
  pool: z.strictObject(poolShape),
  /** A server that failed is skipped for this long, then tried again (so one that came back is used again). */
  serverRetryMs: z.number().int().min(1000).max(3_600_000),
  /** Directory sync (issue 8): schedule, change tracking, deletion threshold. */
  sync: syncSettingsField,
  /** Set for connections declared in the configuration file (re-applied at every start). */
  declared: z.boolean().optional(),
};

export const ldapSettingsSchema = z.strictObject(settingsShape).superRefine((s, ctx) => {
  if (s.groups.mode === 'posixGroup' && s.groups.nested !== 'none') {
    ctx.addIssue({ code: 'custom', path: ['groups', 'nested'], message: 'posixGroup members are user names (memberUid): nesting is not possible, use none' });
  }
  if (s.groups.nested === 'in-chain' && s.groups.mode !== 'memberOf' && s.groups.mode !== 'groupOfNames') {
    ctx.addIssue({ code: 'custom', path: ['groups', 'nested'], message: 'in-chain (Active Directory) works with the member attribute: use mode memberOf or groupOfNames' });
  }
  if (new Set(s.servers).size !== s.servers.length) ctx.addIssue({ code: 'custom', path: ['servers'], message: 'lists a server twice' });
  if (s.sync.deletionThreshold.count === undefined && s.sync.deletionThreshold.percent === undefined) {
    ctx.addIssue({ code: 'custom', path: ['sync', 'deletionThreshold'], message: 'needs a count, a percent or both' });
  }
});

export type LdapSettings = z.output<typeof ldapSettingsSchema>;

/** Defaults that do not depend on the kind of directory. */
export const GENERIC_DEFAULTS = {
  tls: { caCertificates: [] as string[], minVersion: 'TLSv1.2' as const },
  dangerouslyAllowPlaintext: false,
  roles: [] as Array<{ group: string; role: string }>,
  timeouts: { connectMs: 1500, operationMs: 5000 },
  // Three idle connections serve bursts of sign-ins without holding many sockets per tenant.
  pool: { size: 3, idleMs: 60_000 },
  serverRetryMs: 30_000,
  sync: SYNC_DEFAULTS,
};

/** Mapped attributes and base DNs can be cleared in a patch with null. */
const nullable = <T extends z.ZodTypeAny>(schema: T) => schema.nullable().optional();

/**
 * What an admin gives (CLI, config file): a preset, where the directory is, the service account,
 * and any overrides. Everything except servers, baseDn and bindDn has a default from the preset.
 */
export const ldapConnectionInputSchema = z.strictObject({
  id: ldapConnectionIdSchema,
  displayName: z.string().trim().min(1).max(200).optional(),
  preset: z.enum([...LDAP_PRESETS, 'custom']).optional(),
  enabled: z.boolean().optional(),
  /** Sign-in order among the tenant's connections (after local accounts); appended when absent. */
  position: z.number().int().min(0).max(10000).optional(),
  servers: z.array(serverUrlSchema).min(1, 'at least one server').optional(),
  baseDn: dnSchema.optional(),
  bindDn: bindDnSchema.optional(),
  /** The service account's password; sealed at rest, never shown again. */
  bindPassword: z.string().min(1).optional(),
  tls: z.strictObject({ caCertificates: tlsShape.caCertificates.optional(), serverName: nullable(tlsShape.serverName.unwrap()), minVersion: tlsShape.minVersion.optional() }).optional(),
  dangerouslyAllowPlaintext: z.boolean().optional(),
  users: z.strictObject({ ...usersShape, baseDn: nullable(dnSchema) }).partial().optional(),
  attributes: z
    .strictObject({
      ...attributesShape,
      email: nullable(attributeSchema),
      displayName: nullable(attributeSchema),
      givenName: nullable(attributeSchema),
      familyName: nullable(attributeSchema),
      phone: nullable(attributeSchema),
    })
    .partial()
    .optional(),
  groups: z.strictObject({ ...groupsShape, baseDn: nullable(dnSchema) }).partial().optional(),
  roles: z.array(roleMappingSchema).optional(),
  accountStatus: settingsShape.accountStatus.optional(),
  timeouts: z.strictObject(timeoutsShape).partial().optional(),
  pool: z.strictObject(poolShape).partial().optional(),
  serverRetryMs: settingsShape.serverRetryMs.optional(),
  sync: syncSettingsPatchSchema.optional(),
});

export type LdapConnectionInput = z.input<typeof ldapConnectionInputSchema>;
/** A change to an existing connection: any field but the id. */
export type LdapConnectionPatch = Omit<Partial<LdapConnectionInput>, 'id'>;

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge, arrays and scalars replace, null removes, undefined leaves alone. */
export function mergeSettings(base: Plain, patch: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete out[key];
    else if (isPlain(value) && isPlain(out[key])) out[key] = mergeSettings(out[key] as Plain, value);
    else out[key] = value;
  }
  return out;
}

/** The preset's values with the generic defaults: the starting point of a new connection. */
export function presetBase(preset: LdapPresetName | 'custom'): Plain {
  const values = preset === 'custom' ? {} : structuredClone(PRESETS[preset]);
  return { ...structuredClone(GENERIC_DEFAULTS), ...values, preset };
}

const METADATA_KEYS = ['id', 'displayName', 'enabled', 'position', 'bindPassword'] as const;

function settingsPart(input: Plain): Plain {
  const out = { ...input };
  for (const k of METADATA_KEYS) delete out[k];
  return out;
}

function invalid(error: z.ZodError): GatehouseError {
  return new GatehouseError('ldap.invalid_settings', formatZodError('', error));
}

/** Validates input from the CLI or the config file (shape only; settings are resolved next). */
export function parseConnectionInput(raw: unknown): z.output<typeof ldapConnectionInputSchema> {
  const parsed = ldapConnectionInputSchema.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

/** Complete settings for a new connection: preset (OpenLDAP when none is named), then the input. */
export function resolveNewSettings(input: z.output<typeof ldapConnectionInputSchema>): LdapSettings {
  const base = presetBase(input.preset ?? 'openldap');
  return validateSettings(mergeSettings(base, settingsPart(input as Plain)));
}

/**
 * Settings after a change. Naming a different preset replaces the preset's fields (users,
 * attributes, groups, account status) before the rest of the change is applied; where the
 * directory is, the service account, TLS, roles and timeouts stay.
 */
export function resolveUpdatedSettings(current: LdapSettings, patch: Plain): LdapSettings {
  let base: Plain = structuredClone(current) as unknown as Plain;
  const preset = patch.preset as LdapPresetName | 'custom' | undefined;
  if (preset && preset !== current.preset && preset !== 'custom') {
    base = { ...base, ...structuredClone(PRESETS[preset]), preset };
  }
  return validateSettings(mergeSettings(base, settingsPart(patch)));
}

export function validateSettings(raw: unknown): LdapSettings {
  const parsed = ldapSettingsSchema.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

/** The base DN users are searched under. */
export const userBaseDn = (s: LdapSettings) => s.users.baseDn ?? s.baseDn;
/** The base DN groups are searched under. */
export const groupBaseDn = (s: LdapSettings) => s.groups.baseDn ?? s.baseDn;
