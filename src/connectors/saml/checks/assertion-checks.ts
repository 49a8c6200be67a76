import type { Check } from './check.js';
import type { ResponseCheckContext } from './response-context.js';
import { refuse } from '../saml-errors.js';
import { attr, child, children, parseInstant, text } from '../saml-xml.js';
import { CM_BEARER, NS } from '../saml-constants.js';
import { checkIssuer } from './response-checks.js';

function instant(element: Element, name: string): number | undefined {
  const value = parseInstant(attr(element, name));
  if (value !== undefined && Number.isNaN(value)) refuse('saml.assertion_invalid', `${element.localName}/@${name} is not an xs:dateTime`);
  return value;
}

const iso = (ms: number) => new Date(ms).toISOString();

export const assertionElement: Check<ResponseCheckContext> = {
  name: 'assertion.element',
  spec: '[SAMLCore] 2.3.3: an Assertion has Version 2.0, an ID, an IssueInstant and an Issuer',
  run(ctx) {
    const a = ctx.assertion!;
    if (attr(a, 'Version') !== '2.0' || !attr(a, 'ID') || !attr(a, 'IssueInstant')) refuse('saml.assertion_invalid', 'the Assertion lacks Version 2.0, ID or IssueInstant');
    instant(a, 'IssueInstant');
    if (children(a, NS.assertion, 'Issuer').length !== 1) refuse('saml.assertion_invalid', 'the Assertion must have exactly one Issuer');
  },
};

export const assertionIssuer: Check<ResponseCheckContext> = {
  name: 'assertion.issuer',
  spec: '[SAMLProf] 4.1.4.2: each assertion\'s Issuer is the identity provider (Format omitted or entity)',
  run(ctx) {
    checkIssuer(child(ctx.assertion!, NS.assertion, 'Issuer')!, ctx.connection.idp.entityId, 'Assertion');
  },
};

export const subjectNameId: Check<ResponseCheckContext> = {
  name: 'assertion.subject',
  spec: '[SAMLCore] 2.4.1 and 2.2.3: a Subject with a NameID (EncryptedID is not supported)',
  run(ctx) {
    const subject = child(ctx.assertion!, NS.assertion, 'Subject');
    if (!subject) refuse('saml.subject_invalid', 'the Assertion has no Subject');
    const nameIds = children(subject!, NS.assertion, 'NameID');
    if (nameIds.length !== 1) {
      const encrypted = children(subject!, NS.assertion, 'EncryptedID').length > 0;
      refuse('saml.subject_invalid', encrypted ? 'the Subject has an EncryptedID (not supported: ask the partner for a plain NameID in an encrypted assertion)' : 'the Subject has no NameID');
    }
    const nameId = nameIds[0]!;
    const value = text(nameId);
    if (!value) refuse('saml.subject_invalid', 'the NameID is empty');
    ctx.nameId = { value: value!, format: attr(nameId, 'Format'), nameQualifier: attr(nameId, 'NameQualifier'), spNameQualifier: attr(nameId, 'SPNameQualifier') };
  },
};

export const subjectConfirmation: Check<ResponseCheckContext> = {
  name: 'assertion.subject-confirmation',
  spec: '[SAMLProf] 4.1.4.2 and 4.1.4.3: a bearer SubjectConfirmationData with Recipient = our ACS, an unexpired NotOnOrAfter, and InResponseTo = our request ID (absent when unsolicited)',
  run(ctx) {
    const subject = child(ctx.assertion!, NS.assertion, 'Subject')!;
    const bearers = children(subject, NS.assertion, 'SubjectConfirmation').filter((c) => attr(c, 'Method') === CM_BEARER);
    if (bearers.length === 0) refuse('saml.subject_confirmation_invalid', 'no bearer SubjectConfirmation');
    let usableUntil = 0;
    // [SAMLProf] 4.1.4.3 says "any bearer SubjectConfirmationData": every one present must hold.
    for (const bearer of bearers) {
      const data = child(bearer, NS.assertion, 'SubjectConfirmationData');
      if (!data) refuse('saml.subject_confirmation_invalid', 'a bearer SubjectConfirmation has no SubjectConfirmationData');
      const recipient = attr(data!, 'Recipient');
      if (recipient !== ctx.urls.acs) refuse('saml.recipient_mismatch', `Recipient is "${(recipient ?? '(absent)').slice(0, 300)}", expected "${ctx.urls.acs}"`);
      const notOnOrAfter = instant(data!, 'NotOnOrAfter');
      if (notOnOrAfter === undefined) refuse('saml.subject_confirmation_invalid', 'the bearer confirmation has no NotOnOrAfter');
      if (ctx.now - ctx.skewMs >= notOnOrAfter!) refuse('saml.subject_confirmation_expired', `NotOnOrAfter ${iso(notOnOrAfter!)} has passed (now ${iso(ctx.now)}, skew ${ctx.skewMs / 1000} s)`);
      // The profile says NotBefore MUST NOT be present; when an IdP sends it anyway, it is honoured.
      const notBefore = instant(data!, 'NotBefore');
      if (notBefore !== undefined && ctx.now + ctx.skewMs < notBefore) refuse('saml.assertion_not_yet_valid', `SubjectConfirmationData NotBefore ${iso(notBefore)} is ahead`);
      const answered = attr(data!, 'InResponseTo');
      if (ctx.unsolicited) {
        if (answered !== undefined) refuse('saml.in_response_to_mismatch', 'an unsolicited assertion must not name a request (InResponseTo)');
      } else if (answered !== ctx.request!.id) {
        refuse('saml.in_response_to_mismatch', `the assertion answers "${(answered ?? '(absent)').slice(0, 80)}", not our request "${ctx.request!.id}"`);
      }
      usableUntil = Math.max(usableUntil, notOnOrAfter!);
    }
    ctx.usableUntil = usableUntil;
  },
};

export const conditionsTime: Check<ResponseCheckContext> = {
  name: 'assertion.conditions-time',
  spec: '[SAMLCore] 2.5.1.2: NotBefore <= now < NotOnOrAfter, with the connection\'s clock skew',
  run(ctx) {
    const conditions = children(ctx.assertion!, NS.assertion, 'Conditions');
    if (conditions.length !== 1) refuse('saml.assertion_invalid', `the Assertion has ${conditions.length} Conditions elements (exactly one is required for the audience)`);
    const c = conditions[0]!;
    const notBefore = instant(c, 'NotBefore');
    const notOnOrAfter = instant(c, 'NotOnOrAfter');
    if (notBefore !== undefined && ctx.now + ctx.skewMs < notBefore) refuse('saml.assertion_not_yet_valid', `NotBefore ${iso(notBefore)} is ahead (now ${iso(ctx.now)}, skew ${ctx.skewMs / 1000} s)`);
    if (notOnOrAfter !== undefined && ctx.now - ctx.skewMs >= notOnOrAfter) refuse('saml.assertion_expired', `NotOnOrAfter ${iso(notOnOrAfter)} has passed (now ${iso(ctx.now)}, skew ${ctx.skewMs / 1000} s)`);
    if (notOnOrAfter !== undefined) ctx.usableUntil = Math.max(ctx.usableUntil ?? 0, notOnOrAfter);
  },
};

export const audience: Check<ResponseCheckContext> = {
  name: 'assertion.audience',
  spec: '[SAMLCore] 2.5.1.4 (the assertion is valid only for the audiences of every AudienceRestriction) and [SAMLProf] 4.1.4.2 (our entity id must be one)',
  run(ctx) {
    const conditions = child(ctx.assertion!, NS.assertion, 'Conditions')!;
    const restrictions = children(conditions, NS.assertion, 'AudienceRestriction');
    if (restrictions.length === 0) refuse('saml.audience_mismatch', 'the Assertion has no AudienceRestriction');
    for (const restriction of restrictions) {
      const audiences = children(restriction, NS.assertion, 'Audience').map((a) => text(a) ?? '');
      if (!audiences.includes(ctx.urls.entityId)) {
        refuse('saml.audience_mismatch', `audience ${audiences.map((a) => `"${a.slice(0, 200)}"`).join(', ') || '(none)'}, expected "${ctx.urls.entityId}"`);
      }
    }
  },
};

export const authnStatement: Check<ResponseCheckContext> = {
  name: 'assertion.authn-statement',
  spec: '[SAMLProf] 4.1.4.2 (at least one AuthnStatement) and [SAMLCore] 2.7.2 (SessionNotOnOrAfter, SessionIndex, AuthnContext)',
  run(ctx) {
    const statements = children(ctx.assertion!, NS.assertion, 'AuthnStatement');
    if (statements.length === 0) refuse('saml.authn_statement_missing', 'the Assertion has no AuthnStatement');
    const statement = statements[0]!;
    const sessionEnd = instant(statement, 'SessionNotOnOrAfter');
    if (sessionEnd !== undefined && ctx.now - ctx.skewMs >= sessionEnd) refuse('saml.assertion_expired', `the partner session ended at ${iso(sessionEnd)}`);
    ctx.sessionNotOnOrAfter = sessionEnd;
    ctx.sessionIndex = attr(statement, 'SessionIndex');
    ctx.authnInstant = instant(statement, 'AuthnInstant');
    ctx.authnContextClassRef = text(child(child(statement, NS.assertion, 'AuthnContext') ?? statement, NS.assertion, 'AuthnContextClassRef'));
  },
};

export const attributes: Check<ResponseCheckContext> = {
  name: 'assertion.attributes',
  spec: '[SAMLCore] 2.7.3: attributes from the signed AttributeStatement (EncryptedAttribute is not supported and ignored)',
  run(ctx) {
    const out = new Map<string, { friendlyName: string | undefined; values: string[] }>();
    for (const statement of children(ctx.assertion!, NS.assertion, 'AttributeStatement')) {
      for (const attribute of children(statement, NS.assertion, 'Attribute')) {
        const name = attr(attribute, 'Name');
        if (!name) continue;
        const values = children(attribute, NS.assertion, 'AttributeValue')
          .filter((v) => v.getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'nil') !== 'true')
          .map((v) => text(v) ?? '')
          .filter((v) => v !== '');
        const existing = out.get(name);
        if (existing) existing.values.push(...values);
        else out.set(name, { friendlyName: attr(attribute, 'FriendlyName'), values });
      }
    }
    ctx.attributes = out;
  },
};
