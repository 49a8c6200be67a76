import { html } from '../http/pages/html.js';
import { renderPage } from '../http/pages/layout.js';
import { t } from '../http/pages/strings.js';
import type { PageContext } from '../http/pages/page-context.js';
import type { UserRecord } from '../store/repositories/user-repository.js';

export interface AccountSessionView {
  id: string;
  current: boolean;
  startedAt: number;
  apps: string[];
}

export interface AccountAppView {
  clientId: string;
  clientName: string;
  scopes: string[];
}

export interface AccountPageInput {
  base: string;
  csrf: string;
  user: UserRecord;
  groups: string[];
  sessions: AccountSessionView[];
  apps: AccountAppView[];
  mfa: {
    enabled: boolean;
    factors: Array<{ id: string; type: 'totp' | 'webauthn'; createdAt: number }>;
    /** Passkeys can be added now (no factor yet, or the session has two factors). */
    canAddPasskey: boolean;
    recoveryCodesLeft: number;
    notice?: string | undefined;
  };
  signOutUrl: string;
}

type Tr = (id: Parameters<typeof t>[0], p?: Record<string, string | number>) => string;

/** Factors can be added; replacing or removing one, or new recovery codes, need a fresh code. */
function renderMfaSection(input: AccountPageInput, tr: Tr, csrf: ReturnType<typeof html>) {
  const codeField = (id: string) =>
    html`<label for="${id}">${tr('account.mfa.code_for_change')}</label><input id="${id}" name="code" type="text" autocomplete="one-time-code" required>`;
  return html`<h2>${tr('account.mfa')}</h2>
${input.mfa.notice ? html`<p class="notice" role="status">${input.mfa.notice}</p>` : ''}
<ul class="plain" id="factors">
${input.mfa.factors.map(
  (f) => html`<li data-type="${f.type}">${tr(f.type === 'webauthn' ? 'passkey.factor' : 'account.mfa.factor', { date: new Date(f.createdAt).toISOString().slice(0, 10) })}
<form method="post" action="${input.base}/mfa/${encodeURIComponent(f.id)}/change">${csrf}${codeField(`code-${f.id}`)}
<div class="actions">${f.type === 'totp' ? html`<button type="submit" name="action" value="replace" class="secondary">${tr('account.mfa.replace')}</button>` : ''}<button type="submit" name="action" value="remove" class="secondary">${tr('account.mfa.remove')}</button></div></form></li>`,
)}
</ul>
${input.mfa.factors.length === 0 ? html`<p class="muted">${tr('account.mfa.none')}</p>` : ''}
${input.mfa.canAddPasskey ? html`<form method="post" action="${input.base}/mfa/passkey">${csrf}<button type="submit" class="secondary">${tr('passkey.add')}</button></form>` : ''}
${
  input.mfa.factors.length === 0
    ? html`<p><a class="button" href="${input.base}/mfa/enroll">${tr('account.mfa.add')}</a></p>`
    : html`<p id="recovery-left">${tr('account.mfa.recovery_remaining', { count: input.mfa.recoveryCodesLeft })}</p>
<form method="post" action="${input.base}/mfa/recovery-codes">${csrf}${codeField('code-recovery')}<button type="submit" class="secondary">${tr('account.mfa.recovery_regenerate')}</button></form>`
}`;
}

export function renderAccountPage(pc: PageContext, input: AccountPageInput): string {
  const tr = (id: Parameters<typeof t>[0], p: Record<string, string | number> = {}) => t(id, p, pc.locale);
  const csrf = html`<input type="hidden" name="csrf" value="${input.csrf}">`;
  const u = input.user;
  const field = (label: string, value: string | undefined) => (value ? html`<dt>${label}</dt><dd>${value}</dd>` : '');
  return renderPage({
    title: tr('account.title'),
    branding: pc.branding,
    locale: pc.locale,
    themeCssHref: pc.themeCssHref,
    body: html`<h2>${tr('account.profile')}</h2>
<dl class="profile">
${field(tr('account.field.username'), u.username)}
${field(tr('account.field.name'), u.displayName)}
${field(tr('account.field.email'), u.email)}
${field(tr('account.field.phone'), u.phone)}
${field(tr('account.field.groups'), input.groups.join(', '))}
</dl>
<h2>${tr('account.sessions')}</h2>
<ul class="plain" id="sessions">
${input.sessions.map(
  (s) => html`<li>${tr('account.session_started', { time: new Date(s.startedAt * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' })}${s.current ? html` <strong>(${tr('account.session_current')})</strong>` : ''}${s.apps.length ? html`<br><small>${s.apps.join(', ')}</small>` : ''}
<form method="post" action="${input.base}/sessions/${s.id}/end" class="inline">${csrf}<button type="submit" class="link">${tr('account.session_end')}</button></form></li>`,
)}
</ul>
<h2>${tr('account.apps')}</h2>
${
  input.apps.length
    ? html`<ul class="plain" id="apps">${input.apps.map(
        (a) => html`<li><strong>${a.clientName}</strong><br><small>${a.scopes.join(' ')}</small>
<form method="post" action="${input.base}/apps/${encodeURIComponent(a.clientId)}/revoke" class="inline">${csrf}<button type="submit" class="link">${tr('account.app_revoke')}</button></form></li>`,
      )}</ul>`
    : html`<p class="muted">${tr('account.none')}</p>`
}
${input.mfa.enabled ? renderMfaSection(input, tr, csrf) : ''}
<p><a class="button secondary" href="${input.signOutUrl}">${tr('account.sign_out')}</a></p>`,
  });
}
