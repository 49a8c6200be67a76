import { randomUUID } from 'node:crypto';
import { interactionPolicy } from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderHooks } from '../oidc/provider-factory.js';
import type { Logger } from '../logging/logger.js';
import { pageContextFor } from '../http/pages/page-context.js';
import { renderErrorPage, renderLogoutPage, renderSignedOutPage } from './pages.js';
import { loadGrant } from './consent-grants.js';
import { ACR, STEP_UP_REASON } from './interaction-types.js';
import { t } from '../http/pages/strings.js';
import type { PartnerLogout } from './partner-logout.js';

/** The request id our edge gave this request (the provider's own context does not know it). */
function referenceOf(ctx: KoaContextWithOIDC): string {
  const header = ctx.res.getHeader('x-request-id');
  return typeof header === 'string' ? header : randomUUID();
}

/**
 * The provider's pages (error, logout confirmation, signed out) in Gatehouse's look, the
 * first-party consent skip, and the interaction policy with `select_account`.
 */
export function interactiveProviderHooks(base: ProviderHooks, logger: Logger, partnerLogout?: PartnerLogout): ProviderHooks {
  return {
    ...base,
    acrValues: [ACR.singleFactor, ACR.multiFactor],
    interactionPolicy() {
      const policy = interactionPolicy.base();
      // prompt=select_account (OIDC Core 3.1.2.1): shown before login, so a person with a
      // session can choose it or another account.
      policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
      // Step-up: acr_values asking for two factors is honoured like an essential acr claim
      // (oidc-provider enforces only the latter), so a single-factor session gets a second one.
      policy.get('login')!.checks.add(
        new interactionPolicy.Check(STEP_UP_REASON, 'a second factor was requested', 'login_required', (ctx) => {
          const wanted = String(ctx.oidc.params?.acr_values ?? '').split(' ');
          return wanted.includes(ACR.multiFactor) && ctx.oidc.session?.acr !== ACR.multiFactor
            ? interactionPolicy.Check.REQUEST_PROMPT
            : interactionPolicy.Check.NO_NEED_TO_PROMPT;
        }),
      );
      return policy;
    },
    async renderError(tenant, ctx, out, error) {
      const reference = referenceOf(ctx);
      logger.info({ reference, tenant: tenant.id, error: out.error, description: out.error_description, cause: (error as Error).message }, 'oidc error page');
      const pc = pageContextFor(tenant, ctx.oidc?.params?.ui_locales as string | undefined);
      ctx.type = 'html';
      ctx.body = renderErrorPage(pc, {
        message: t('error.generic', {}, pc.locale),
        // OAuth error text is meant for the app's developer and is never internal detail.
        details: out.error_description ? `${out.error}: ${out.error_description}` : out.error,
        reference,
      });
    },
    async logoutSource(tenant, ctx, form) {
      const pc = pageContextFor(tenant, ctx.oidc?.params?.ui_locales as string | undefined);
      ctx.type = 'html';
      const token = await partnerLogout?.prepare(tenant, ctx, form);
      ctx.body = renderLogoutPage(pc, {
        providerForm: form,
        clientName: ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId,
        partnerAction: token ? { action: `/t/${tenant.id}/logout/partner`, token } : undefined,
      });
    },
    async postLogoutSuccessSource(tenant, ctx) {
      const pc = pageContextFor(tenant);
      ctx.type = 'html';
      ctx.body = renderSignedOutPage(pc, { clientName: ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId });
    },
    loadExistingGrant: (_tenant, ctx, isFirstParty) => loadGrant(ctx, isFirstParty),
  };
}
