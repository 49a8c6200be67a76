import type { Check } from './check.js';
import type { ResponseCheckContext } from './response-context.js';
import { refuse } from '../saml-errors.js';

export const notReplayed: Check<ResponseCheckContext> = {
  name: 'assertion.replay',
  spec: '[SAMLProf] 4.1.4.5: the service provider keeps the IDs of used bearer assertions until they expire, and refuses a second use',
  async run(ctx) {
    // Kept past NotOnOrAfter by the skew: until then a clock-skewed copy could still pass the time checks.
    const keepUntil = (ctx.usableUntil ?? ctx.now) + ctx.skewMs;
    const first = await ctx.store.saml.assertionIds.remember(ctx.connection.id, ctx.assertionId!, keepUntil);
    if (!first) refuse('saml.assertion_replayed', `assertion "${ctx.assertionId!.slice(0, 80)}" was already used`);
  },
};

export const requestAnswered: Check<ResponseCheckContext> = {
  name: 'request.consume',
  spec: '[SAMLProf] 4.1.4.3: a request is answered once; marking it used is atomic across server processes',
  async run(ctx) {
    if (ctx.unsolicited) return;
    if (!(await ctx.store.saml.messages.consume(ctx.request!.id, 'authn'))) refuse('saml.in_response_to_used', `request "${ctx.request!.id}" was answered meanwhile`);
  },
};
