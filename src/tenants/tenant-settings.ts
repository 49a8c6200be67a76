import { z } from 'zod';

/**
 * Per-tenant settings, stored as one JSON document on the tenant row. Each capability owns a
 * section; every section has defaults, so an empty object is a valid, secure configuration.
 */
export const brandingSchema = z.strictObject({
  /** https URL of a logo shown on sign-in pages. */
  logoUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** CSS hex colour used for buttons and links; checked for contrast when pages render. */
  accentColor: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'an accent colour is a hex colour such as #1f6feb')
    .optional(),
});

/**
 * Failed sign-in throttling (per account and per client IP). After `freeAttempts` failures each
 * further attempt must wait a delay that doubles from `delayBaseSeconds` up to `maxDelaySeconds`;
 * after `lockoutAfter` failures the account is locked for `lockoutMinutes`. Failures older than
 * `windowMinutes` are forgotten. The IP limit is higher: one address may serve many people.
 */
export const throttleSchema = z.strictObject({
  freeAttempts: z.number().int().min(1).max(100).default(3),
  delayBaseSeconds: z.number().int().min(0).max(60).default(1),
  maxDelaySeconds: z.number().int().min(0).max(3600).default(30),
  lockoutAfter: z.number().int().min(2).max(1000).default(10),
  lockoutMinutes: z.number().int().min(1).max(1440).default(15),
  windowMinutes: z.number().int().min(1).max(1440).default(15),
  ipLockoutAfter: z.number().int().min(2).max(100000).default(100),
});
export type ThrottleSettings = z.infer<typeof throttleSchema>;

/**
 * Two-factor policy: `off` (never asked, no enrollment), `optional` (people may enroll; once
 * enrolled they are always asked), `required` (everyone; people without a factor enroll at their
 * next sign-in), `groups` (required for members of `groups`, optional for the rest). Groups are
 * named as the `groups` claim names them: a local group's name, a directory group's DN.
 */
export const mfaPolicySchema = z
  .strictObject({
    policy: z.enum(['off', 'optional', 'required', 'groups']).default('optional'),
    groups: z.array(z.string().min(1)).default([]),
  })
  .refine((m) => m.policy !== 'groups' || m.groups.length > 0, { message: 'the "groups" policy needs at least one group', path: ['groups'] });
export type MfaPolicy = z.infer<typeof mfaPolicySchema>;
/** SCIM attributes a tenant may open to SCIM writes on users that SCIM does not own. */
export const SCIM_WRITABLE_ATTRIBUTES = ['userName', 'name', 'displayName', 'emails', 'phoneNumbers', 'active'] as const;

/**
 * SCIM (scim/). Users provisioned through SCIM (source `scim`) are SCIM's to change; users that
 * a directory connection brings (`ldap:*`, `saml:*`) and local users belong to their source, and
 * SCIM may change only the attributes listed here on them (none by default). `externalId`, the
 * SCIM client's own identifier, is always writable.
 */
export const scimSettingsSchema = z.strictObject({
  writableAttributesOfSyncedUsers: z.array(z.enum(SCIM_WRITABLE_ATTRIBUTES)).default([]),
});

/**
 * Directory sync (directory/sync/): users and groups that leave the directory (or the sync
 * scope) are disabled at once and deleted this many days later; an entry that comes back within
 * that time gets its user back, with its sessions, factors and consents. 0 deletes at the run
 * after the one that disabled them.
 */
export const syncTenantSettingsSchema = z.strictObject({
  deleteAfterDays: z.number().int().min(0).max(3650).default(30),
});

export const tenantSettingsSchema = z.strictObject({
  branding: brandingSchema.default({}),
  signIn: z
    .strictObject({
      throttle: throttleSchema.default(throttleSchema.parse({})),
    })
    .default({ throttle: throttleSchema.parse({}) }),
  mfa: mfaPolicySchema.default({ policy: 'optional', groups: [] }),
  scim: scimSettingsSchema.default({ writableAttributesOfSyncedUsers: [] }),
  sync: syncTenantSettingsSchema.default({ deleteAfterDays: 30 }),
});

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

/** Stored settings with every default filled in (settings written by older versions lack new sections). */
export function parseTenantSettings(raw: unknown): TenantSettings {
  return tenantSettingsSchema.parse(raw ?? {});
}
