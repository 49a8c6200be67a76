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

export const tenantSettingsSchema = z.strictObject({
  branding: brandingSchema.default({}),
});

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

export function parseTenantSettings(raw: unknown): TenantSettings {
  return tenantSettingsSchema.parse(raw ?? {});
}
