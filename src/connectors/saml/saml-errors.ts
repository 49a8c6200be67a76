import { GatehouseError } from '../../errors/gatehouse-error.js';

/**
 * Stable codes for every way a SAML message is refused. People see one page ("sign-in with your
 * organisation failed", with a reference id); the log and the audit log get the code, the named
 * check that failed, the specification section it enforces, and a precise (non-secret) detail.
 */
export const SAML_REFUSALS = {
  'saml.response_missing': 'no SAMLResponse in the request',
  'saml.message_malformed': 'the message is not valid base64 or XML, or is too large',
  'saml.doctype_forbidden': 'the message carries a DOCTYPE',
  'saml.xml_comment_forbidden': 'the message carries an XML comment or processing instruction',
  'saml.not_a_response': 'the message is not a SAML 2.0 Response',
  'saml.duplicate_id': 'two elements carry the same ID',
  'saml.destination_mismatch': 'the Destination is not this connection\'s endpoint',
  'saml.issuer_mismatch': 'the Issuer is not the partner\'s entity id',
  'saml.status_not_success': 'the partner answered with an error status',
  'saml.in_response_to_unknown': 'the response answers no request we sent (or it expired)',
  'saml.in_response_to_used': 'the request this answers was already answered',
  'saml.unsolicited_response': 'IdP-initiated sign-in is not allowed for this connection',
  'saml.relay_state_mismatch': 'the RelayState is not the one sent with the request',
  'saml.assertion_count': 'the response does not carry exactly one assertion',
  'saml.signature_placement': 'a signature is not an enveloped signature of its parent',
  'saml.weak_algorithm': 'SHA-1 is used and the connection does not allow it',
  'saml.algorithm_not_allowed': 'an algorithm or transform outside the allowed set is used',
  'saml.signature_invalid': 'a signature does not verify with the partner\'s pinned certificates',
  'saml.signature_missing': 'the assertion is not protected by a signature',
  'saml.decryption_failed': 'the encrypted assertion could not be decrypted with the connection\'s key',
  'saml.assertion_not_encrypted': 'the connection requires encrypted assertions',
  'saml.assertion_invalid': 'the assertion lacks a required element or attribute',
  'saml.subject_invalid': 'the assertion has no usable subject (NameID)',
  'saml.recipient_mismatch': 'the bearer confirmation is for another recipient',
  'saml.subject_confirmation_invalid': 'no valid bearer subject confirmation',
  'saml.subject_confirmation_expired': 'the bearer subject confirmation has expired',
  'saml.in_response_to_mismatch': 'the assertion answers another request',
  'saml.assertion_not_yet_valid': 'the assertion is not valid yet',
  'saml.assertion_expired': 'the assertion has expired',
  'saml.audience_mismatch': 'the assertion is for another audience',
  'saml.authn_statement_missing': 'the assertion has no authentication statement',
  'saml.library_refused': 'node-saml refused the response',
  'saml.assertion_replayed': 'the assertion was used before',
  'saml.connection_not_ready': 'the connection has no partner metadata yet',
  'saml.logout_invalid': 'the logout message is not valid',
} as const;

export type SamlRefusalCode = keyof typeof SAML_REFUSALS;

/** Thrown by a check; the check runner adds the check's name and specification section. */
export class SamlCheckFailure extends Error {
  constructor(
    readonly code: SamlRefusalCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'SamlCheckFailure';
  }
}

export const refuse = (code: SamlRefusalCode, detail: string): never => {
  throw new SamlCheckFailure(code, detail);
};

/**
 * The error a refused SAML message becomes. `expose: false`: the page shows a generic message and
 * the reference id; the precise reason is for the log and the audit log only (telling an attacker
 * which check stopped a forged response would help them forge the next one).
 */
export class SamlRefusedError extends GatehouseError {
  constructor(
    code: SamlRefusalCode,
    readonly check: string,
    readonly spec: string,
    readonly detail: string,
  ) {
    super(code, `${SAML_REFUSALS[code]} (check ${check}: ${detail})`, { status: 400, expose: false, details: { check, spec, detail } });
    this.name = 'SamlRefusedError';
  }
}

export function isSamlRefused(error: unknown): error is SamlRefusedError {
  return error instanceof SamlRefusedError;
}
