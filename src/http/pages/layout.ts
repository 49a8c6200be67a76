import { html, type SafeHtml } from './html.js';
import { t, type Locale } from './strings.js';

export interface PageBranding {
  tenantName?: string | undefined;
  logoUrl?: string | undefined;
  accentColor?: string | undefined;
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  branding?: PageBranding;
  locale?: Locale;
  /** Path of the tenant's stylesheet, when a tenant sets an accent colour. */
  themeCssHref?: string | undefined;
}

/**
 * The shell of every page: no inline script or style (the CSP forbids them), one stylesheet,
 * a viewport for phones, the tenant's name and logo when known.
 */
export function renderPage(options: PageOptions): string {
  const { branding = {}, locale = 'en' } = options;
  return html`<!DOCTYPE html>
<html lang="${t('page.lang', {}, locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title}${branding.tenantName ? ` · ${branding.tenantName}` : ''}</title>
<link rel="stylesheet" href="/static/gatehouse.css">
${options.themeCssHref ? html`<link rel="stylesheet" href="${options.themeCssHref}">` : ''}
</head>
<body>
<main class="card" id="main">
${branding.logoUrl ? html`<img class="logo" src="${branding.logoUrl}" alt="${branding.tenantName ?? ''}">` : branding.tenantName ? html`<p class="tenant-name">${branding.tenantName}</p>` : ''}
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>`.value;
}

export function renderMessagePage(title: string, message: string, options: { branding?: PageBranding; reference?: string | undefined } = {}): string {
  return renderPage({
    title,
    branding: options.branding,
    body: html`<p>${message}</p>${
      options.reference
        ? html`<p class="reference">${t('error.reference')}: <code>${options.reference}</code><br><small>${t('error.reference_help')}</small></p>`
        : ''
    }`,
  });
}
