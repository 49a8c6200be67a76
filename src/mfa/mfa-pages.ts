import { html, SafeHtml } from '../http/pages/html.js';
import { renderPage } from '../http/pages/layout.js';
import { t, type StringId } from '../http/pages/strings.js';
import type { PageContext } from '../http/pages/page-context.js';
import type { TotpEnrollment } from './mfa-service.js';

const tr = (pc: PageContext, id: StringId, params: Record<string, string | number> = {}) => t(id, params, pc.locale);
const page = (pc: PageContext, title: string, body: SafeHtml) => renderPage({ title, body, branding: pc.branding, locale: pc.locale, themeCssHref: pc.themeCssHref });
const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;
const errorBlock = (message: string | undefined) => (message ? html`<p id="form-error" class="error" role="alert">${message}</p>` : html``);
const notice = (message: string | undefined) => (message ? html`<p class="notice" role="status">${message}</p>` : html``);

/** The second step at sign-in: a code from the authenticator, or a recovery code. */
export function renderVerifyPage(
  pc: PageContext,
  input: { action: string; csrf: string; recovery: boolean; switchHref: string; error?: string; notice?: string; totp?: boolean; passkey?: SafeHtml },
): string {
  const invalid = input.error ? html` aria-invalid="true" aria-describedby="form-error"` : html``;
  const field = input.recovery
    ? html`<p>${tr(pc, 'mfa.recovery_prompt')}</p><label for="recovery_code">${tr(pc, 'mfa.recovery_code')}</label>
<input id="recovery_code" name="recovery_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus${invalid}>`
    : html`<p>${tr(pc, 'mfa.prompt')}</p><label for="code">${tr(pc, 'mfa.code')}</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus${invalid}>`;
  const showForm = input.recovery || input.totp !== false;
  return page(
    pc,
    tr(pc, 'mfa.title'),
    html`${notice(input.notice)}${errorBlock(input.error)}
${input.passkey && !input.recovery ? input.passkey : ''}
${
  showForm
    ? html`<form method="post" action="${input.action}" novalidate>${csrfField(input.csrf)}
${field}
<button type="submit">${tr(pc, 'mfa.verify')}</button>
</form>`
    : ''
}
<p><a href="${input.switchHref}">${input.recovery ? tr(pc, 'mfa.use_code') : tr(pc, 'mfa.use_recovery')}</a></p>`,
  );
}

/** Enrollment: the QR code (an otpauth:// URI), the key as text, and the first code. */
export function renderEnrollPage(pc: PageContext, input: { action: string; csrf: string; enrollment: TotpEnrollment; required?: boolean; error?: string; title?: string }): string {
  const invalid = input.error ? html` aria-invalid="true" aria-describedby="form-error"` : html``;
  return page(
    pc,
    input.title ?? tr(pc, 'mfa.enroll.title'),
    html`${input.required ? html`<p>${tr(pc, 'mfa.enroll.required', { tenant: pc.branding.tenantName ?? '' })}</p>` : ''}
<p>${tr(pc, 'mfa.enroll.scan')}</p>
<img id="totp-qr" src="${input.enrollment.qrDataUrl}" alt="${tr(pc, 'mfa.enroll.qr_alt')}" width="205" height="205">
<p>${tr(pc, 'mfa.enroll.manual')}<br><code id="totp-secret">${input.enrollment.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
${errorBlock(input.error)}
<form method="post" action="${input.action}" novalidate>${csrfField(input.csrf)}
<label for="code">${tr(pc, 'mfa.code')}</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus${invalid}>
<button type="submit">${tr(pc, 'mfa.enroll.confirm')}</button>
</form>`,
  );
}

/** The recovery codes, shown once. */
export function renderRecoveryCodesPage(pc: PageContext, input: { action: string; csrf: string; codes: string[] }): string {
  return page(
    pc,
    tr(pc, 'mfa.codes.title'),
    html`<p>${tr(pc, 'mfa.codes.body')}</p>
<ul class="plain" id="recovery-codes">${input.codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>
<form method="post" action="${input.action}">${csrfField(input.csrf)}<button type="submit" autofocus>${tr(pc, 'mfa.codes.continue')}</button></form>`,
  );
}

/** A short confirmation with one button to continue (after a recovery code was used). */
export function renderContinuePage(pc: PageContext, input: { action: string; csrf: string; notice: string }): string {
  return page(
    pc,
    tr(pc, 'mfa.title'),
    html`${notice(input.notice)}
<form method="post" action="${input.action}">${csrfField(input.csrf)}<button type="submit" autofocus>${tr(pc, 'mfa.continue')}</button></form>`,
  );
}

/**
 * A passkey ceremony: the options as JSON (not executed), a button that the script reveals, and
 * the form the script submits. Without JavaScript the button stays hidden.
 */
export function passkeyBlock(pc: PageContext, input: { mode: 'register' | 'authenticate'; options: unknown; action: string; csrf: string; label: string }): SafeHtml {
  return html`<script type="application/json" id="webauthn-options">${new SafeHtml(JSON.stringify(input.options).replace(/</g, '\\u003c'))}</script>
<p id="webauthn-error" class="error" role="alert" hidden data-message="${tr(pc, 'passkey.failed')}"></p>
<button type="button" id="webauthn-start" data-mode="${input.mode}" hidden>${input.label}</button>
<form method="post" action="${input.action}" id="webauthn-form">${csrfField(input.csrf)}<input type="hidden" name="response" value=""></form>
<script src="/static/simplewebauthn-browser.js"></script>
<script src="/static/webauthn.js"></script>`;
}

export function renderPasskeyPage(pc: PageContext, input: { title: string; intro: string; block: SafeHtml; backHref?: string }): string {
  return page(pc, input.title, html`<p>${input.intro}</p>${input.block}${input.backHref ? html`<p><a href="${input.backHref}">${tr(pc, 'error.back')}</a></p>` : ''}`);
}
