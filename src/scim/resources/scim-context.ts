import type { TenantStore } from '../../store/tenant-store.js';
import type { TenantRecord } from '../../store/repositories/tenant-registry.js';
import type { Actor, AuditLog, RequestOrigin } from '../../audit/audit-log.js';
import type { ChangeOrigin } from '../../directory/directory-writer.js';

/** What a SCIM operation works with: the tenant, its store, the caller, and the base URL for locations. */
export interface ScimContext {
  tenant: TenantRecord;
  store: TenantStore;
  /** `<issuer>/scim/v2`: resource locations and `$ref`s are built from it. */
  baseUrl: string;
  actor: Actor;
  origin: RequestOrigin;
  audit: AuditLog;
  /** If-Match of the request, checked against the version inside the write transaction. */
  ifMatch: string | undefined;
}

/** SCIM-made changes appear in the change feed as `via: "scim"`. */
export const scimOrigin = (ctx: ScimContext): ChangeOrigin => ({ actor: ctx.actor, via: 'scim' });

/** The source of users and groups that SCIM creates (and so owns). */
export const SCIM_SOURCE = 'scim';

const SYNCED = /^(ldap|saml):/;
/** A human description of who owns a non-SCIM object, for error messages. */
export function ownerOf(source: string): string {
  if (source === 'local') return "the tenant's administrators (local user)";
  return SYNCED.test(source) ? `its directory connection (${source})` : source;
}
