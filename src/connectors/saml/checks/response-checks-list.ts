import type { Check } from './check.js';
import type { ResponseCheckContext } from './response-context.js';
import { decodePostForm, isResponse, noComments, noDoctype, uniqueIds, wellFormed } from './message-checks.js';
import { destination, inResponseTo, relayState, responseIssuer, singleAssertion, status } from './response-checks.js';
import { assertionSignature, decryptAssertionCheck, responseSignature, signaturePlacement, signatureRequired } from './signature-checks.js';
import { assertionElement, assertionIssuer, attributes, audience, authnStatement, conditionsTime, subjectConfirmation, subjectNameId } from './assertion-checks.js';
import { nodeSamlAgrees } from './library-check.js';
import { notReplayed, requestAnswered } from './replay-checks.js';

/**
 * Every check a SAML Response passes before anyone is signed in, in order. The order follows
 * [SAMLProf] 4.1.4.3 (message, then signatures, then the assertion's own rules) and puts cheap
 * refusals before cryptography, and the two checks with side effects (the replay cache, marking
 * the request answered) last, so a refused response does not consume anything.
 */
export const RESPONSE_CHECKS: ReadonlyArray<Check<ResponseCheckContext>> = [
  decodePostForm,
  noDoctype,
  wellFormed,
  noComments,
  isResponse,
  uniqueIds,
  destination,
  responseIssuer,
  status,
  inResponseTo,
  relayState,
  singleAssertion,
  signaturePlacement,
  responseSignature,
  decryptAssertionCheck,
  assertionSignature,
  signatureRequired,
  assertionElement,
  assertionIssuer,
  subjectNameId,
  subjectConfirmation,
  conditionsTime,
  audience,
  authnStatement,
  attributes,
  nodeSamlAgrees,
  notReplayed,
  requestAnswered,
];
