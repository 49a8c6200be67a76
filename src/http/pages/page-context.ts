import type { TenantRecord } from '../../store/repositories/tenant-registry.js';
import type { PageBranding } from './layout.js';
import { negotiateLocale, type Locale } from './strings.js';

export interface PageContext {
  branding: PageBranding;
  locale: Locale;
  themeCssHref?: string | undefined;
}

/** What every page of a tenant shows: its name, logo and colours, in the person's language. */
export function pageContextFor(tenant: TenantRecord, uiLocales?: string): PageContext {
  const { logoUrl, accentColor } = tenant.settings.branding;
  return {
    branding: { tenantName: tenant.displayName, logoUrl, accentColor },
    locale: negotiateLocale(uiLocales),
    themeCssHref: accentColor ? `/t/${tenant.id}/theme.css?r=${tenant.revision}` : undefined,
  };
}
