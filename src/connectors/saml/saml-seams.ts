import type { Context } from 'koa';
import type { ExternalIdentity } from '../connector.js';
import type { UserRecord } from '../../store/repositories/user-repository.js';
import type { RequestOrigin } from '../../audit/audit-log.js';

/**
 * The seams between the SAML side and the browser sign-in flow (issue 3). The SAML router is
 * created with an implementation of each; nothing here knows oidc-provider.
 */

/** A SAML sign-in every check accepted, its user linked or created in the tenant directory. */
export interface SamlSignIn {
  tenantId: string;
  connectionId: string;
  /** The pending oidc-provider interaction the sign-in was started for; undefined when IdP-initiated. */
  interactionUid: string | undefined;
  /** IdP-initiated sign-in (allowed by the connection): the app the person lands in. */
  idpInitiated: { defaultApp: string } | undefined;
  identity: ExternalIdentity;
  /** The user of the tenant directory (status checked: active). */
  user: UserRecord;
}

/**
 * Called on the same-site GET that follows the ACS (see saml-routes.ts for why there is a hop),
 * with the browser's cookies present. The implementation finishes the interaction (typically
 * `provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: user.id, amr, acr } })`)
 * and writes the response.
 */
export type OnSamlSignedIn = (ctx: Context, signIn: SamlSignIn) => Promise<void>;

/** Ending Gatehouse sessions when a partner signs a person out (IdP-initiated single logout). */
export interface SamlSessionTerminator {
  /**
   * Ends every Gatehouse (oidc-provider) session of this account in this tenant and triggers
   * back-channel logout for the apps those sessions signed in to. Throwing makes Gatehouse answer
   * the partner with a failed LogoutResponse.
   */
  endSessions(request: { tenantId: string; accountId: string; connectionId: string; origin: RequestOrigin }): Promise<void>;
}
