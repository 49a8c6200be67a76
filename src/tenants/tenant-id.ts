import { z } from 'zod';

/**
 * A tenant id is a slug that appears in URLs (`/t/<tenant>`) and in every issuer, so it is kept
 * to what is safe in a path segment and a DNS label: lowercase letters, digits and inner hyphens,
 * 1 to 63 characters.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const tenantIdSchema = z
  .string()
  .regex(
    TENANT_ID_PATTERN,
    'a tenant id is 1 to 63 lowercase letters, digits and hyphens, and starts and ends with a letter or digit',
  );

export type TenantId = string;

export function isValidTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}

export const TENANT_STATUSES = ['active', 'suspended', 'offboarding'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];
