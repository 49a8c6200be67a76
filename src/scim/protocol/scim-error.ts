import { GatehouseError, isGatehouseError } from '../../errors/gatehouse-error.js';

/** RFC 7644 section 3.12, table 9: the detail error keywords of a 400 response. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** A Gatehouse error that carries its SCIM keyword; its code stays stable for logs and audit. */
export function scimError(code: string, scimType: ScimType | undefined, message: string, status = 400): GatehouseError {
  return new GatehouseError(code, message, { status, details: scimType ? { scimType } : {} });
}

/** Errors of the directory layers that have a SCIM meaning of their own. */
const SCIM_TYPE_BY_CODE: Record<string, ScimType> = {
  'user.exists': 'uniqueness',
  'directory.group_contains_itself': 'invalidValue',
};

export interface ScimErrorResponse {
  status: number;
  body: { schemas: string[]; status: string; scimType?: ScimType; detail: string };
}

/**
 * The SCIM error body (RFC 7644 3.12) for any error: the status as a string, the keyword when
 * there is one, and a detail that never shows internals (5xx get a generic text and the request
 * reference, as everywhere else in Gatehouse).
 */
export function scimErrorResponse(error: unknown, requestId: string): ScimErrorResponse {
  const e = isGatehouseError(error) ? error : new GatehouseError('internal_error', 'unexpected error', { status: 500, expose: false, cause: error });
  const scimType = (e.details?.scimType as ScimType | undefined) ?? SCIM_TYPE_BY_CODE[e.code];
  const detail = e.expose ? e.message : `the request failed (reference ${requestId})`;
  return { status: e.status, body: { schemas: [SCIM_ERROR_SCHEMA], status: String(e.status), ...(scimType ? { scimType } : {}), detail } };
}
