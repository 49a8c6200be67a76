import { html, SafeHtml } from '../http/pages/html.js';
import { renderPage } from '../http/pages/layout.js';
import { t, type StringId } from '../http/pages/strings.js';
import type { PageContext } from '../http/pages/page-context.js';

/**
 * The interactive pages: server-rendered HTML, no scripts, one stylesheet. Every form carries
 * the interaction's CSRF token; every input has a label and the right autocomplete hint; an
 * error is announced (role=alert) and tied to the field it concerns.
 */

const page = (pc: PageContext, title: string, body: SafeHtml) =>
  renderPage({ title, body, branding: pc.branding, locale: pc.locale, themeCssHref: pc.themeCssHref });

const tr = (pc: PageContext, id: StringId, params: Record<string, string | number> = {}) => t(id, params, pc.locale);

function errorBlock(message: string | undefined): SafeHtml {
  return message ? html`<p id="form-error" class="error" role="alert">${message}</p>` : html``;
}

const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;

export interface ConnectorButton {
  id: string;
  name: string;
}

export interface IdentifierPageInput {
  action: string;
  cancelAction: string;
  connectorAction: (id: string) => string;
  csrf: string;
  clientName: string;
  username?: string | undefined;
  error?: string | undefined;
  connectors: ConnectorButton[];
  /** Where "Sign in with a passkey" posts, when the tenant allows passkeys. */
  passkeyAction?: string | undefined;
}

export function renderIdentifierPage(pc: PageContext, input: IdentifierPageInput): string {
  const invalid = input.error ? html` aria-invalid="true" aria-describedby="form-error"` : html``;
  return page(
    pc,
    tr(pc, 'signin.title'),
    html`<p class="muted">${tr(pc, 'signin.to_app', { app: input.clientName })}</p>
${errorBlock(input.error)}
<form method="post" action="${input.action}" novalidate>
${csrfField(input.csrf)}
<label for="username">${tr(pc, 'signin.username')}</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${input.username ?? ''}"${invalid}>
<button type="submit">${tr(pc, 'signin.next')}</button>
</form>
${
  input.connectors.length
    ? html`<h2>${tr(pc, 'signin.or')}</h2>
${input.connectors.map(
  (c) => html`<form method="post" action="${input.connectorAction(c.id)}">${csrfField(input.csrf)}<button type="submit" class="secondary">${tr(pc, 'signin.with_connector', { name: c.name })}</button></form>`,
)}`
    : ''
}
${input.passkeyAction ? html`<form method="post" action="${input.passkeyAction}">${csrfField(input.csrf)}<button type="submit" class="secondary">${tr(pc, 'passkey.sign_in')}</button></form>` : ''}
<form method="post" action="${input.cancelAction}">${csrfField(input.csrf)}<button type="submit" class="link">${tr(pc, 'signin.cancel')}</button></form>`,
  );
}

export interface PasswordPageInput {
  action: string;
  switchAction: string;
  cancelAction: string;
  csrf: string;
  clientName: string;
  username: string;
  error?: string | undefined;
}

export function renderPasswordPage(pc: PageContext, input: PasswordPageInput): string {
  const invalid = input.error ? html` aria-invalid="true" aria-describedby="form-error"` : html``;
  return page(
    pc,
    tr(pc, 'signin.title'),
    html`<p class="muted">${tr(pc, 'signin.to_app', { app: input.clientName })}</p>
${errorBlock(input.error)}
<form method="post" action="${input.action}" novalidate>
${csrfField(input.csrf)}
<label for="username">${tr(pc, 'signin.username')}</label>
<input id="username" name="username" type="text" autocomplete="username" readonly value="${input.username}">
<label for="password">${tr(pc, 'signin.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus${invalid}>
<button type="submit">${tr(pc, 'signin.submit')}</button>
</form>
<form method="post" action="${input.switchAction}">${csrfField(input.csrf)}<button type="submit" class="link">${tr(pc, 'signin.not_you', { username: input.username })}</button></form>
<form method="post" action="${input.cancelAction}">${csrfField(input.csrf)}<button type="submit" class="link">${tr(pc, 'signin.cancel')}</button></form>`,
  );
}

export interface ConsentPageInput {
  action: string;
  denyAction: string;
  csrf: string;
  clientName: string;
  username: string;
  items: string[];
}

export function renderConsentPage(pc: PageContext, input: ConsentPageInput): string {
  return page(
    pc,
    tr(pc, 'consent.title'),
    html`<p>${tr(pc, 'consent.intro', { app: input.clientName })}</p>
<ul class="scopes">${input.items.map((item) => html`<li>${item}</li>`)}</ul>
<p class="muted">${tr(pc, 'consent.signed_in_as', { username: input.username })}</p>
<div class="actions">
<form method="post" action="${input.denyAction}">${csrfField(input.csrf)}<button type="submit" class="secondary">${tr(pc, 'consent.deny')}</button></form>
<form method="post" action="${input.action}">${csrfField(input.csrf)}<button type="submit">${tr(pc, 'consent.allow')}</button></form>
</div>`,
  );
}

export function renderSelectAccountPage(pc: PageContext, input: { action: string; csrf: string; username: string }): string {
  return page(
    pc,
    tr(pc, 'select_account.title'),
    html`<form method="post" action="${input.action}">${csrfField(input.csrf)}
<button type="submit" name="choice" value="continue" autofocus>${tr(pc, 'select_account.continue', { username: input.username })}</button>
<button type="submit" name="choice" value="other" class="secondary">${tr(pc, 'select_account.other')}</button>
</form>`,
  );
}

/**
 * The logout confirmation: `providerForm` is oidc-provider's own form (with its xsrf field).
 * With `partnerAction`, "Sign out" first signs the person out at their SAML partner.
 */
export function renderLogoutPage(pc: PageContext, input: { providerForm: string; clientName?: string | undefined; partnerAction?: { action: string; token: string } | undefined }): string {
  const tenant = pc.branding.tenantName ?? '';
  return page(
    pc,
    tr(pc, 'logout.title'),
    html`${new SafeHtml(input.providerForm)}
<p>${input.clientName ? tr(pc, 'logout.question_app', { tenant, app: input.clientName }) : tr(pc, 'logout.question', { tenant })}</p>
<div class="actions">
<button type="submit" form="op.logoutForm" class="secondary">${tr(pc, 'logout.no')}</button>
${
  input.partnerAction
    ? html`<form method="post" action="${input.partnerAction.action}"><input type="hidden" name="token" value="${input.partnerAction.token}"><button type="submit" autofocus>${tr(pc, 'logout.yes')}</button></form>`
    : html`<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>${tr(pc, 'logout.yes')}</button>`
}
</div>`,
  );
}

export function renderSignedOutPage(pc: PageContext, input: { clientName?: string | undefined }): string {
  const tenant = pc.branding.tenantName ?? '';
  return page(pc, tr(pc, 'signed_out.title'), html`<p>${input.clientName ? tr(pc, 'signed_out.body_app', { app: input.clientName, tenant }) : tr(pc, 'signed_out.body')}</p>`);
}

export function renderErrorPage(pc: PageContext, input: { title?: string; message: string; reference: string; details?: string | undefined }): string {
  return page(
    pc,
    input.title ?? tr(pc, 'error.title'),
    html`<p>${input.message}</p>${input.details ? html`<p class="muted"><small>${input.details}</small></p>` : ''}
<p class="reference">${tr(pc, 'error.reference')}: <code>${input.reference}</code><br><small>${tr(pc, 'error.reference_help')}</small></p>`,
  );
}
