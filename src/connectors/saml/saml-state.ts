import type { ExternalIdentity } from '../connector.js';

/** What is stored with an AuthnRequest we sent (saml_messages, kind `authn`), keyed by its ID. */
export interface AuthnRequestState {
  /** The RelayState sent with it; the response must bring back exactly this ([SAMLBind] 3.5.3). */
  relayState: string;
  /** The pending oidc-provider interaction the sign-in is for. Never read from RelayState. */
  interactionUid: string;
}

/** A LogoutRequest we sent (kind `logout`): where to send the browser when the partner answers. */
export interface LogoutRequestState {
  returnTo: string;
  accountId: string;
}

/** A validated sign-in waiting for the browser's hop to the continue route (kind `completion`). */
export interface CompletionState {
  interactionUid: string | undefined;
  idpInitiated: { defaultApp: string } | undefined;
  identity: ExternalIdentity;
  userId: string;
  /** SHA-256 of the random value in the browser-binding cookie set by the ACS response. */
  browserBindingSha256: string;
}
