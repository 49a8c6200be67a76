import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { RedirectConnector } from '../connectors/connector.js';
import { requestOrigin } from '../http/request-context.js';
import { sendRedirectInstruction } from '../http/auto-post-page.js';
import type { LoadedInteraction } from './interaction-flow.js';

/** The domain of something typed as an email address, lowercased. */
export function emailDomain(typed: string): string | undefined {
  const at = typed.lastIndexOf('@');
  return at > 0 && at < typed.length - 1 ? typed.slice(at + 1).trim().toLowerCase() : undefined;
}

/**
 * Sends the person to a partner (a redirect connector): the one they picked, or the one that
 * claims the domain of what they typed. Returns false when no connector applies, so the caller
 * carries on with a password.
 */
export async function startRedirectConnector(
  ctx: Context,
  it: LoadedInteraction,
  registry: ConnectorRegistry,
  services: Services,
  choice: { typed?: string; connectorId?: string },
): Promise<boolean> {
  const connectors = await registry.redirectConnectors(it.runtime.tenant, it.runtime.store);
  let connector: RedirectConnector | undefined;
  if (choice.connectorId) connector = connectors.find((c) => c.id === choice.connectorId);
  else if (choice.typed) {
    const domain = emailDomain(choice.typed);
    if (domain) connector = connectors.find((c) => c.domains.map((d) => d.toLowerCase()).includes(domain));
  }
  if (!connector) return false;
  const instruction = await connector.begin(
    { interactionUid: it.details.uid, loginHint: choice.typed },
    { tenantId: it.runtime.tenant.id, logger: services.logger, origin: requestOrigin(ctx) },
  );
  await services.audit.record(it.runtime.store, {
    actor: { type: 'anonymous' },
    origin: requestOrigin(ctx),
    action: 'signin.redirected',
    target: { type: 'connector', id: connector.id },
    outcome: 'success',
    details: { by: choice.connectorId ? 'choice' : 'email_domain' },
  });
  sendRedirectInstruction(ctx, instruction);
  return true;
}
