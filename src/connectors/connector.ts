import type { Logger } from '../logging/logger.js';
import type { RequestOrigin } from '../audit/audit-log.js';

/**
 * Connectors: where people's identities come from (DESIGN.md, convention 3). Local accounts and
 * LDAP directories check a username and password; SAML partners sign people in elsewhere and
 * send them back. Every connector returns the same normalised ExternalIdentity, which the
 * identity linker turns into a user of the tenant directory (just-in-time provisioning).
 */

/** A group as the source identifies it: by an immutable id or DN, never by its common name. */
export interface ExternalGroup {
  /** DN, entryUUID, objectGUID, or the value a SAML partner sends; unique within the source. */
  externalId: string;
  /** The value apps see in the `groups` claim (unique within the source, e.g. a DN). */
  name: string;
  displayName?: string | undefined;
}

/** How the person authenticated at the source: feeds `amr`/`acr` and the two-factor policy. */
export interface AuthenticationContext {
  /** RFC 8176 method references, e.g. ['pwd'], or what a SAML partner asserted. */
  amr: string[];
  /** SAML AuthnContextClassRef as received, when there is one. */
  classRef?: string | undefined;
  /** The source vouches for a second factor (a SAML partner's MFA that the tenant trusts). */
  multiFactor?: boolean | undefined;
}

export interface ExternalIdentity {
  /** `local`, `ldap:<connection id>`, `saml:<connection id>`. */
  source: string;
  /** The immutable id at the source (user id, entryUUID, objectGUID, persistent NameID). */
  externalId: string;
  username: string;
  email?: string | undefined;
  emailVerified?: boolean | undefined;
  givenName?: string | undefined;
  familyName?: string | undefined;
  displayName?: string | undefined;
  phone?: string | undefined;
  groups: ExternalGroup[];
  /** Roles mapped from groups by the connection's group-to-role mapping. */
  roles: string[];
  authentication: AuthenticationContext;
  /** Further non-secret attributes worth keeping on the user. */
  attributes?: Record<string, unknown> | undefined;
}

/**
 * Why a password check failed. `unknown_user` lets the sign-in try the next connector; every
 * other failure stops there. People see one non-revealing message for all of these; the audit
 * log gets the precise reason.
 */
export type PasswordFailureReason =
  | 'unknown_user'
  | 'invalid_credentials'
  | 'account_disabled'
  | 'account_locked'
  | 'account_expired'
  | 'password_expired'
  | 'directory_unavailable';

export type PasswordCheckResult =
  | { ok: true; identity: ExternalIdentity }
  | { ok: false; reason: PasswordFailureReason; /** Precise, non-secret detail for logs and the audit log. */ detail?: string };

export interface ConnectorContext {
  tenantId: string;
  logger: Logger;
  origin?: RequestOrigin | undefined;
}

/** Local accounts and LDAP connections. */
export interface PasswordConnector {
  readonly kind: 'password';
  /** `local`, or the connection id. */
  readonly id: string;
  readonly displayName: string;
  /** Never called with an empty password: the sign-in refuses those before any connector. */
  checkPassword(username: string, password: string, context: ConnectorContext): Promise<PasswordCheckResult>;
  close?(): Promise<void>;
}

/** SAML partners: the person signs in at the partner and comes back to a route of the connector. */
export interface RedirectConnector {
  readonly kind: 'redirect';
  readonly id: string;
  readonly displayName: string;
  /** Email domains claimed by this connection: `someone@<domain>` goes straight to it. */
  readonly domains: string[];
  /**
   * URLs the connector sends browsers to. The sign-in pages' CSP `form-action` must allow their
   * origins: browsers apply it to the redirect that follows a form post (identifier page -> partner).
   */
  readonly browserTargets: string[];
  /**
   * Starts the sign-in at the partner for a pending interaction; the connector's own callback
   * route later completes it with `completeExternalSignIn` (interaction/external-sign-in.ts).
   */
  begin(request: { interactionUid: string; loginHint?: string | undefined }, context: ConnectorContext): Promise<RedirectInstruction>;
  close?(): Promise<void>;
}

/** Either a redirect (HTTP-Redirect binding) or an auto-submitted form (HTTP-POST binding). */
export type RedirectInstruction =
  | { type: 'redirect'; url: string }
  | { type: 'post'; url: string; fields: Record<string, string> };

export type Connector = PasswordConnector | RedirectConnector;
