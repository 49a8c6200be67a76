import { runChecks } from './checks/check.js';
import type { ReceivedNameId, ResponseCheckContext, ResponseInput } from './checks/response-context.js';
import { RESPONSE_CHECKS } from './checks/response-checks-list.js';
import { SamlRefusedError } from './saml-errors.js';

/** A Response every check accepted: what the identity is built from. */
export interface ValidatedSamlResponse {
  connectionId: string;
  assertionId: string;
  issuer: string;
  nameId: ReceivedNameId;
  sessionIndex: string | undefined;
  sessionNotOnOrAfter: number | undefined;
  authnContextClassRef: string | undefined;
  authnInstant: number | undefined;
  attributes: Map<string, { friendlyName: string | undefined; values: string[] }>;
  /** The pending interaction the sign-in is for (from the stored request, never from RelayState). */
  interactionUid: string | undefined;
  unsolicited: boolean;
  signed: { response: boolean; assertion: boolean };
  encrypted: boolean;
  /** The names of the checks that passed, in order (for the audit log). */
  checks: string[];
}

/** A connection can sign people in only once the partner is known: entity id, certificates, SSO endpoint. */
export function connectionReady(input: Pick<ResponseInput, 'connection'>): boolean {
  const idp = input.connection.idp;
  return input.connection.enabled && Boolean(idp.entityId) && idp.signingCertificates.length > 0 && idp.sso.length > 0;
}

/** Runs RESPONSE_CHECKS over a posted SAMLResponse; throws SamlRefusedError naming the failed check. */
export async function validateSamlResponse(input: ResponseInput): Promise<ValidatedSamlResponse> {
  if (!connectionReady(input)) {
    throw new SamlRefusedError('saml.connection_not_ready', 'connection.ready', 'the partner\'s entity id, signing certificates and SSO endpoint are known', 'the connection is disabled or has no partner metadata');
  }
  const ctx: ResponseCheckContext = { ...input, skewMs: input.connection.settings.clockSkewSeconds * 1000 };
  const checks = await runChecks(RESPONSE_CHECKS, ctx);
  return {
    connectionId: input.connection.id,
    assertionId: ctx.assertionId!,
    issuer: input.connection.idp.entityId!,
    nameId: ctx.nameId!,
    sessionIndex: ctx.sessionIndex,
    sessionNotOnOrAfter: ctx.sessionNotOnOrAfter,
    authnContextClassRef: ctx.authnContextClassRef,
    authnInstant: ctx.authnInstant,
    attributes: ctx.attributes!,
    interactionUid: ctx.request?.payload.interactionUid,
    unsolicited: Boolean(ctx.unsolicited),
    signed: { response: Boolean(ctx.signedResponse), assertion: Boolean(ctx.assertionSigned) },
    encrypted: Boolean(ctx.encrypted),
    checks,
  };
}
