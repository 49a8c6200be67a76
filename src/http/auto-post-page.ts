import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { html } from './pages/html.js';
import { t } from './pages/strings.js';
import type { RedirectInstruction } from '../connectors/connector.js';

/**
 * A page that makes the browser POST a form elsewhere: a SAML partner (HTTP-POST binding,
 * [SAMLBind] 3.5.4), or oidc-provider's logout confirmation after a partner's logout. Gatehouse's
 * CSP forbids inline scripts, so this page's one script is allowed by its hash, and `form-action`
 * names the target's origin (and any origin the target redirects on to) for this response only.
 * Without JavaScript the visible Continue button does the same.
 */
const AUTO_SUBMIT = 'document.forms[0].submit();';
const AUTO_SUBMIT_HASH = `'sha256-${createHash('sha256').update(AUTO_SUBMIT).digest('base64')}'`;

export interface PostBindingPage {
  html: string;
  /** Replaces the default Content-Security-Policy header for this response. */
  contentSecurityPolicy: string;
}

export function renderPostBindingPage(target: { url: string; fields: Record<string, string> }, alsoAllowFormTargets: string[] = []): PostBindingPage {
  const origins = [...new Set([new URL(target.url).origin, ...alsoAllowFormTargets.map((u) => new URL(u).origin)])];
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
    contentSecurityPolicy: `default-src 'none'; script-src ${AUTO_SUBMIT_HASH}; style-src 'self'; img-src 'self'; form-action 'self' ${origins.join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
  };
}

/** Sends the browser on: a redirect, or an auto-submitted form for the HTTP-POST binding. */
export function sendRedirectInstruction(ctx: Context, instruction: RedirectInstruction): void {
  if (instruction.type === 'redirect') {
    ctx.status = 303;
    ctx.redirect(instruction.url);
    return;
  }
  const page = renderPostBindingPage(instruction);
  ctx.set('Content-Security-Policy', page.contentSecurityPolicy);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  ctx.body = page.html;
}
