import { SAML, ValidateInResponseTo, type CacheProvider, type SamlConfig } from '@node-saml/node-saml';
import type { SamlConnectionRecord } from '../../store/repositories/saml-connection-repository.js';
import type { SamlSpPrivateKeys } from './saml-connection-schema.js';
import type { SamlSpUrls } from './saml-sp-urls.js';
import { NAME_ID_FORMATS } from './saml-constants.js';

/**
 * node-saml keeps request ids in its own cache when asked to (`validateInResponseTo`), and in
 * memory by default, which does not hold across server processes. Gatehouse keeps them in the
 * store instead (saml_messages) and checks InResponseTo itself (checks/response-checks.ts), so
 * node-saml's cache is given nothing to hold.
 */
const noCache: CacheProvider = {
  saveAsync: async () => null,
  getAsync: async () => null,
  removeAsync: async () => null,
};

export interface NodeSamlOptions {
  connection: SamlConnectionRecord;
  keys: SamlSpPrivateKeys;
  urls: SamlSpUrls;
  /** The partner endpoint AuthnRequests go to (default: its first SSO endpoint). */
  entryPoint?: string;
  /** The ID the next generated message gets (we store it before the message leaves). */
  messageId?: string;
  /** Where logout messages go (the partner's SLO endpoint or its ResponseLocation). */
  logoutUrl?: string;
  /** Sign outgoing messages; defaults to the connection's `signAuthnRequests` (logout messages are always signed). */
  sign?: boolean;
  /** For AuthnRequests sent with HTTP-POST: the message is not DEFLATE-compressed ([SAMLBind] 3.5.4). */
  postBinding?: boolean;
  /** Response cross-check: which signatures node-saml must find valid. */
  wantResponseSigned?: boolean;
  wantAssertionSigned?: boolean;
}

/**
 * One node-saml instance configured for one connection and one use. node-saml's defaults that are
 * unsafe for us are overridden here, each on purpose:
 * - signatureAlgorithm and digestAlgorithm default to SHA-1: set to SHA-256;
 * - validateInResponseTo defaults to `never` with an in-memory cache: ours is in the store;
 * - acceptedClockSkewMs -1 turns off node-saml's time checks, which read the system clock; ours
 *   read the injected clock (DESIGN.md convention 7) and run before node-saml;
 * - RequestedAuthnContext defaults to exact PasswordProtectedTransport, which would make an IdP
 *   that did MFA fail: off unless the connection asks for a context;
 * - idpCert is the partner's pinned certificates, never a certificate from a message.
 */
export function createNodeSaml(options: NodeSamlOptions): SAML {
  const { connection, keys, urls } = options;
  const settings = connection.settings;
  const sso = connection.idp.sso[0];
  const config: SamlConfig = {
    issuer: urls.entityId,
    callbackUrl: urls.acs,
    audience: urls.entityId,
    entryPoint: options.entryPoint ?? sso?.url ?? urls.acs,
    logoutUrl: options.logoutUrl ?? connection.idp.slo[0]?.url ?? sso?.url ?? urls.acs,
    logoutCallbackUrl: urls.slo,
    idpIssuer: connection.idp.entityId,
    idpCert: connection.idp.signingCertificates.length ? connection.idp.signingCertificates : ['-'],
    decryptionPvk: keys.encryption,
    ...((options.sign ?? settings.signAuthnRequests) ? { privateKey: keys.signing, publicCert: connection.spCertificates.signing } : {}),
    signatureAlgorithm: 'sha256',
    // node-saml maps short names (getDigestAlgorithm); a URI here would silently fall back to SHA-1.
    digestAlgorithm: 'sha256',
    identifierFormat: NAME_ID_FORMATS[settings.nameIdFormat],
    allowCreate: true,
    disableRequestedAuthnContext: !settings.requestedAuthnContext,
    ...(settings.requestedAuthnContext
      ? { authnContext: settings.requestedAuthnContext.classRefs, racComparison: settings.requestedAuthnContext.comparison }
      : {}),
    forceAuthn: settings.forceAuthn,
    authnRequestBinding: options.postBinding ? 'HTTP-POST' : 'HTTP-Redirect',
    skipRequestCompression: Boolean(options.postBinding),
    validateInResponseTo: ValidateInResponseTo.never,
    cacheProvider: noCache,
    acceptedClockSkewMs: -1,
    wantAuthnResponseSigned: options.wantResponseSigned ?? false,
    wantAssertionsSigned: options.wantAssertionSigned ?? false,
    ...(options.messageId ? { generateUniqueId: () => options.messageId! } : {}),
  };
  return new SAML(config);
}
