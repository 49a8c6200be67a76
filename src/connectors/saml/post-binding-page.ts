import { createHash } from 'node:crypto';
import { html } from '../../http/pages/html.js';
import { t } from '../../http/pages/strings.js';

/**
 * The HTTP-POST binding ([SAMLBind] 3.5.4) needs the browser to submit a form to the partner.
 * Gatehouse's CSP forbids inline scripts, so this page's one script is allowed by its hash, and
 * `form-action` names the partner's origin for this response only. Without JavaScript the
 * visible Continue button does the same.
 */
const AUTO_SUBMIT = 'document.forms[0].submit();';
const AUTO_SUBMIT_HASH = `'sha256-${createHash('sha256').update(AUTO_SUBMIT).digest('base64')}'`;

export interface PostBindingPage {
  html: string;
  /** Replaces the default Content-Security-Policy header for this response. */
  contentSecurityPolicy: string;
}

export function renderPostBindingPage(target: { url: string; fields: Record<string, string> }): PostBindingPage {
  const origin = new URL(target.url).origin;
  const page = html`<!DOCTYPE html>
<html lang="${t('page.lang')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${t('saml.redirecting.title')}</title>
<link rel="stylesheet" href="/static/gatehouse.css">
</head>
<body>
<main class="card" id="main">
<h1>${t('saml.redirecting.title')}</h1>
<form method="post" action="${target.url}">
${Object.entries(target.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}<p>${t('saml.redirecting.body')}</p>
<button type="submit">${t('saml.continue')}</button>
</form>
</main>
<script>${AUTO_SUBMIT}</script>
</body>
</html>`.value;
  return {
    html: page,
    contentSecurityPolicy: `default-src 'none'; script-src ${AUTO_SUBMIT_HASH}; style-src 'self'; img-src 'self'; form-action 'self' ${origin}; frame-ancestors 'none'; base-uri 'none'`,
  };
}
