import { z } from 'zod';
import { DEFAULT_MFA_CLASS_REFS, NAME_ID_FORMATS, type NameIdFormatName } from './saml-constants.js';

/**
 * The settings of a SAML connection, as declared in configuration or given to the CLI. The same
 * schema validates both, so the two never disagree. Insecure choices (SHA-1, IdP-initiated
 * sign-in, plain-http metadata) are off unless named explicitly.
 */

/** A connection id appears in URLs (`/t/<tenant>/saml/<connection>/acs`) and in `saml:<id>` sources. */
export const SAML_CONNECTION_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const samlConnectionIdSchema = z
  .string()
  .regex(SAML_CONNECTION_ID_PATTERN, 'a connection id is 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit');

const bindingSchema = z.enum(['redirect', 'post']);

/**
 * Metadata URLs must be https: the metadata carries the certificates we trust, so whoever can
 * change it in transit can sign in as anyone. Plain http is accepted only on loopback addresses
 * (a partner IdP on the same machine, as in tests).
 */
const metadataUrlSchema = z.url({ protocol: /^https?$/ }).refine(
  (u) => {
    const url = new URL(u);
    return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  },
  { message: 'a metadata URL must use https (plain http only on loopback addresses)' },
);

const endpointUrlSchema = z.url({ protocol: /^https?$/ });

/** A certificate as PEM, or as the base64 DER text of an `<X509Certificate>` element. */
const certificateSchema = z.string().min(100, 'a certificate is a PEM block or base64 DER');

export const idpInputSchema = z
  .strictObject({
    /** Fetched at creation and then every `metadataRefreshSeconds`. */
    metadataUrl: metadataUrlSchema.optional(),
    /** The partner's metadata document itself. */
    metadataXml: z.string().min(1).optional(),
    /** A file holding the partner's metadata (configuration; the CLI's `--metadata-file`), read when applied. */
    metadataFile: z.string().min(1).optional(),
    /**
     * How often metadata from a URL is fetched again. Six hours by default: a partner that
     * publishes a new signing certificate ahead of a rollover is picked up the same day, and a
     * removed one stops being trusted within six hours.
     */
    metadataRefreshSeconds: z.number().int().min(300).max(7 * 86400).default(21600),
    /** Values set by hand; with metadata they override what the metadata says. */
    entityId: z.string().min(1).max(1024).optional(),
    ssoUrl: endpointUrlSchema.optional(),
    ssoBinding: bindingSchema.optional(),
    sloUrl: endpointUrlSchema.optional(),
    sloBinding: bindingSchema.optional(),
    /** Where LogoutResponses go when it differs from `sloUrl` ([SAMLMeta] 2.2.2, ResponseLocation). */
    sloResponseUrl: endpointUrlSchema.optional(),
    signingCertificates: z.array(certificateSchema).min(1).optional(),
  })
  .superRefine((idp, ctx) => {
    const sources = [idp.metadataUrl, idp.metadataXml, idp.metadataFile].filter(Boolean).length;
    if (sources > 1) ctx.addIssue({ code: 'custom', path: ['metadataUrl'], message: 'give one of metadataUrl, metadataFile and metadataXml' });
    if (sources === 0) {
      for (const key of ['entityId', 'ssoUrl', 'signingCertificates'] as const) {
        if (!idp[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when no metadata is given' });
      }
    }
  });

const attributeNames = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

/**
 * Which SAML attributes feed which profile fields. Each field takes an attribute name or a list
 * of names (the first one present wins). The defaults cover the names SimpleSAMLphp, Shibboleth
 * (eduPerson/OID names) and AD FS / Entra ID (claim URIs) send.
 */
export const DEFAULT_ATTRIBUTE_MAPPING = {
  email: ['mail', 'email', 'emailAddress', 'urn:oid:0.9.2342.19200300.100.1.3', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
  givenName: ['givenName', 'urn:oid:2.5.4.42', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname'],
  familyName: ['sn', 'surname', 'urn:oid:2.5.4.4', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'],
  displayName: ['displayName', 'urn:oid:2.16.840.1.113730.3.1.241', 'http://schemas.microsoft.com/identity/claims/displayname'],
  groups: ['groups', 'memberOf', 'isMemberOf', 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'],
} as const;

export const attributeMappingSchema = z.strictObject({
  /** The immutable id of the person at the partner. Without it the NameID is used (not for transient NameIDs). */
  externalId: attributeNames.optional(),
  /** Defaults to the email address, then the NameID. */
  username: attributeNames.optional(),
  email: attributeNames.optional(),
  givenName: attributeNames.optional(),
  familyName: attributeNames.optional(),
  displayName: attributeNames.optional(),
  phone: attributeNames.optional(),
  groups: attributeNames.optional(),
});

export const provisioningSchema = z
  .strictObject({
    /**
     * `jit`: create the user on first sign-in. `link`: only link to an existing user found by
     * `linkBy` (no user found: refused). `link-or-jit`: link when found, create otherwise.
     */
    mode: z.enum(['jit', 'link', 'link-or-jit']).default('jit'),
    linkBy: z.enum(['email', 'username']).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.mode !== 'jit' && !p.linkBy) ctx.addIssue({ code: 'custom', path: ['linkBy'], message: `provisioning mode "${p.mode}" needs linkBy (email or username)` });
  });

export const samlConnectionInputSchema = z
  .strictObject({
    id: samlConnectionIdSchema,
    displayName: z.string().min(1).max(200),
    enabled: z.boolean().default(true),
    idp: idpInputSchema,
    /** Email domains of this partner: `someone@<domain>` on the sign-in page goes straight to it. */
    domains: z
      .array(z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'a domain name such as partner.example'))
      .default([])
      .transform((d) => [...new Set(d.map((x) => x.toLowerCase()))]),
    /** The NameID format asked for in AuthnRequests ([SAMLCore] 3.4.1.1, NameIDPolicy). */
    nameIdFormat: z.enum(Object.keys(NAME_ID_FORMATS) as [NameIdFormatName, ...NameIdFormatName[]]).default('persistent'),
    /** How AuthnRequests travel; by default the first binding the partner offers, Redirect preferred. */
    authnRequestBinding: bindingSchema.optional(),
    /** Sign AuthnRequests and LogoutRequests with the connection's key. */
    signAuthnRequests: z.boolean().default(true),
    /** Refuse responses whose assertion is not itself signed (a signed Response alone is not enough). */
    requireSignedAssertions: z.boolean().default(false),
    /** Refuse assertions that are not encrypted to the connection's encryption certificate. */
    requireEncryptedAssertions: z.boolean().default(false),
    /** Accept SHA-1 signatures and digests from this partner. Insecure; for legacy IdPs only. */
    allowSha1: z.boolean().default(false),
    /**
     * Clock skew tolerated on NotBefore / NotOnOrAfter. One minute covers ordinary drift between
     * two NTP-synchronised hosts without stretching the replay window much.
     */
    clockSkewSeconds: z.number().int().min(0).max(300).default(60),
    attributes: attributeMappingSchema.default({}),
    /** Extra claims: claim name -> attribute name; kept on the user's attributes. */
    claims: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Roles from groups: group value as the partner sends it -> roles. */
    roleMapping: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
    provisioning: provisioningSchema.default({ mode: 'jit' }),
    /** Accept responses the partner sends without our AuthnRequest ([SAMLProf] 4.1.5). Off by default. */
    allowIdpInitiated: z.boolean().default(false),
    /** The app (client id) a person signed in by IdP-initiated SSO lands in. */
    defaultApp: z.string().min(1).optional(),
    /** Trust the partner's second factor when its AuthnContextClassRef is one of `mfaClassRefs`. */
    trustPartnerMfa: z.boolean().default(false),
    mfaClassRefs: z.array(z.string().min(1)).min(1).default([...DEFAULT_MFA_CLASS_REFS]),
    /** Ask the partner for an authentication context ([SAMLCore] 3.3.2.2.1, RequestedAuthnContext). */
    requestedAuthnContext: z
      .strictObject({
        classRefs: z.array(z.string().min(1)).min(1),
        comparison: z.enum(['exact', 'minimum', 'maximum', 'better']).default('minimum'),
      })
      .optional(),
    /** Ask the partner to authenticate again even with a session there ([SAMLCore] 3.4.1, ForceAuthn). */
    forceAuthn: z.boolean().default(false),
    /** A query parameter some IdPs read the login hint from (AD FS `username`, Entra ID `login_hint`). */
    loginHintParameter: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.allowIdpInitiated && !c.defaultApp) {
      ctx.addIssue({ code: 'custom', path: ['defaultApp'], message: 'IdP-initiated sign-in needs a default app (defaultApp) to land in' });
    }
    if (c.nameIdFormat === 'transient' && !c.attributes.externalId) {
      ctx.addIssue({ code: 'custom', path: ['attributes', 'externalId'], message: 'a transient NameID changes at every sign-in: map externalId to a stable attribute' });
    }
  });

export type SamlConnectionInput = z.input<typeof samlConnectionInputSchema>;
export type SamlConnectionInputParsed = z.output<typeof samlConnectionInputSchema>;
export type AttributeMapping = z.output<typeof attributeMappingSchema>;

/** What is stored of the settings: the input without the metadata document (its digest instead). */
export type SamlConnectionSettings = Omit<SamlConnectionInputParsed, 'id' | 'displayName' | 'enabled' | 'idp'> & {
  idp: Omit<SamlConnectionInputParsed['idp'], 'metadataXml'> & { metadataXmlSha256?: string | undefined };
};

/** An endpoint of the partner ([SAMLMeta] 2.2.2 EndpointType). */
export interface SamlEndpoint {
  binding: 'redirect' | 'post';
  url: string;
  responseUrl?: string | undefined;
}

/** The partner as Gatehouse trusts it: resolved from metadata and hand-set values. */
export interface SamlIdpDescriptor {
  entityId: string | undefined;
  /** PEM certificates; signatures verify only against these (two during a rollover). */
  signingCertificates: string[];
  sso: SamlEndpoint[];
  slo: SamlEndpoint[];
  /** Where the partner's values came from, and when metadata was last fetched. */
  source: 'manual' | 'metadata-xml' | 'metadata-url';
  metadataFetchedAt?: number | undefined;
  /** The last metadata fetch failure, for `saml show` (cleared on success). */
  metadataError?: string | undefined;
}

/** Gatehouse's own certificates for one connection (the private keys are sealed apart). */
export interface SamlSpCertificates {
  signing: string;
  encryption: string;
  createdAt: number;
}

export interface SamlSpPrivateKeys {
  signing: string;
  encryption: string;
}
