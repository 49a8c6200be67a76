import { SamlCheckFailure, SamlRefusedError, type SamlRefusalCode } from '../saml-errors.js';
import { XmlRefused } from '../saml-xml.js';

/**
 * Security checks as ordered small steps (DESIGN.md, convention 6): each has a stable name, the
 * specification section it enforces, and one job. A runner executes them in order and turns the
 * first failure into a SamlRefusedError that names the check.
 *
 * Specification shorthands, all OASIS SAML V2.0 (15 March 2005) unless noted:
 * [SAMLCore] saml-core-2.0-os, [SAMLBind] saml-bindings-2.0-os, [SAMLProf] saml-profiles-2.0-os,
 * [SAMLMeta] saml-metadata-2.0-os, [XMLDSig] W3C XML Signature Syntax and Processing (2nd ed.),
 * [XMLEnc] W3C XML Encryption Syntax and Processing.
 */
export interface Check<C> {
  readonly name: string;
  readonly spec: string;
  run(ctx: C): void | Promise<void>;
}

const XML_REFUSAL_CODES: Record<XmlRefused['reason'], SamlRefusalCode> = {
  doctype: 'saml.doctype_forbidden',
  malformed: 'saml.message_malformed',
  comment: 'saml.xml_comment_forbidden',
};

/** Runs the checks in order; returns the names of the checks that passed. */
export async function runChecks<C>(checks: ReadonlyArray<Check<C>>, ctx: C): Promise<string[]> {
  const passed: string[] = [];
  for (const check of checks) {
    try {
      await check.run(ctx);
    } catch (error) {
      if (error instanceof SamlCheckFailure) throw new SamlRefusedError(error.code, check.name, check.spec, error.detail);
      if (error instanceof XmlRefused) throw new SamlRefusedError(XML_REFUSAL_CODES[error.reason], check.name, check.spec, error.message);
      throw error;
    }
    passed.push(check.name);
  }
  return passed;
}
