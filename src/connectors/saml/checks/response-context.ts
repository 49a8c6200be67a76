import type { TenantStore } from '../../../store/tenant-store.js';
import type { SamlConnectionRecord } from '../../../store/repositories/saml-connection-repository.js';
import type { SamlMessageRecord } from '../../../store/repositories/saml-message-repository.js';
import type { SamlSpPrivateKeys } from '../saml-connection-schema.js';
import type { SamlSpUrls } from '../saml-sp-urls.js';
import type { AuthnRequestState } from '../saml-state.js';

/** What the ACS received and what the checks need to judge it. */
export interface ResponseInput {
  connection: SamlConnectionRecord;
  keys: SamlSpPrivateKeys;
  urls: SamlSpUrls;
  store: TenantStore;
  /** The injected clock's time (milliseconds). */
  now: number;
  samlResponse: string | undefined;
  relayState: string | undefined;
}

/** The NameID as received ([SAMLCore] 2.2.3). */
export interface ReceivedNameId {
  value: string;
  format: string | undefined;
  nameQualifier: string | undefined;
  spNameQualifier: string | undefined;
}

/**
 * The state the checks build up, step by step. Fields marked "signed" come from the bytes a
 * verified signature covers; identity is read only from those.
 */
export interface ResponseCheckContext extends ResponseInput {
  skewMs: number;
  /** The decoded message text. */
  xml?: string;
  doc?: Document;
  /** The Response element of the received document (unsigned view). */
  response?: Element;
  /** The AuthnRequest this answers (solicited responses). */
  request?: SamlMessageRecord<AuthnRequestState>;
  unsolicited?: boolean;
  /** The Response as its signature covers it (signed), when the Response is signed. */
  signedResponse?: Element;
  /** The Assertion or EncryptedAssertion to use: from the signed Response when there is one. */
  assertionCarrier?: Element;
  encrypted?: boolean;
  /** Text and document the plain assertion was read from (the decrypted text, or the message). */
  assertionSourceText?: string;
  assertionCandidate?: Element;
  assertionSigned?: boolean;
  /** The assertion every later check reads (signed). */
  assertion?: Element;
  assertionId?: string;
  nameId?: ReceivedNameId;
  /** Latest NotOnOrAfter of the assertion (confirmation, conditions): the replay cache keeps the id until then. */
  usableUntil?: number;
  sessionIndex?: string;
  sessionNotOnOrAfter?: number;
  authnContextClassRef?: string;
  authnInstant?: number;
  attributes?: Map<string, { friendlyName: string | undefined; values: string[] }>;
}
