import { startGatehouse, type TestGatehouse } from './gatehouse.js';
import { SamlConnectorSource } from '../../src/connectors/saml/saml-connector-source.js';
import type { SamlSignIn } from '../../src/connectors/saml/saml-seams.js';
import type { Clock } from '../../src/clock.js';
import type { RedirectInstruction } from '../../src/connectors/connector.js';
import { silentLogger } from '../../src/logging/logger.js';
import { readRedirectMessage } from './saml-test-idp.js';

export const OPERATOR = { type: 'operator' as const, id: 'test' };

/**
 * A Gatehouse server with the SAML routes mounted and the two seams the sign-in flow will
 * implement replaced by recorders: `onSignedIn` answers 200 with what it received, and
 * `endSessions` records which accounts a partner signed out.
 */
export interface SamlHarness {
  gh: TestGatehouse;
  signIns: SamlSignIn[];
  endedSessions: Array<{ tenantId: string; accountId: string; connectionId: string }>;
  /** Starts a sign-in through the connector, as the sign-in page will: returns the AuthnRequest's ID and RelayState. */
  begin(tenantId: string, connectionId: string, interactionUid?: string): Promise<{ requestId: string; relayState: string; instruction: RedirectInstruction }>;
  /** POSTs a SAMLResponse to the ACS; follows the 303 to the continue route with the binding cookie. */
  post(tenantId: string, connectionId: string, samlResponse: string, relayState?: string): Promise<PostResult>;
  close(): Promise<void>;
}

export interface PostResult {
  status: number;
  /** X-Request-Id of the ACS response (the reference on its page, and the audit event's request id). */
  requestId: string;
  body: string;
  /** Set when the ACS accepted the response and the continue hop reached onSignedIn. */
  signIn?: SamlSignIn;
  location?: string | null;
  cookie?: string;
}

export async function startSamlHarness(options: { clock?: Clock; databaseUrl?: string; overrides?: Record<string, unknown> } = {}): Promise<SamlHarness> {
  const signIns: SamlSignIn[] = [];
  const endedSessions: SamlHarness['endedSessions'] = [];
  const gh = await startGatehouse({
    ...options,
    extensions: {
      samlSeams: {
        onSignedIn: async (ctx, signIn) => {
          signIns.push(signIn);
          ctx.body = { signedIn: signIn.user.id };
        },
        sessions: {
          async endSessions(request) {
            endedSessions.push({ tenantId: request.tenantId, accountId: request.accountId, connectionId: request.connectionId });
          },
        },
      },
    },
  });
  const source = new SamlConnectorSource(gh.services.saml, gh.services.clock, gh.services.config.tokens.interactionTtl);
  return {
    gh,
    signIns,
    endedSessions,
    async begin(tenantId, connectionId, interactionUid = 'interaction-1') {
      const store = gh.services.store.forTenant(tenantId);
      const tenant = (await store.tenant())!;
      const connector = (await source.connectorsFor(tenant, store)).find((c) => c.id === connectionId);
      if (!connector || connector.kind !== 'redirect') throw new Error(`no redirect connector ${connectionId}`);
      const instruction = await connector.begin({ interactionUid }, { tenantId, logger: silentLogger() });
      if (instruction.type === 'redirect') {
        const message = readRedirectMessage(instruction.url);
        return { requestId: message.id, relayState: message.relayState!, instruction };
      }
      const xml = Buffer.from(instruction.fields.SAMLRequest!, 'base64').toString('utf8');
      return { requestId: /ID="([^"]+)"/.exec(xml)![1]!, relayState: instruction.fields.RelayState!, instruction };
    },
    async post(tenantId, connectionId, samlResponse, relayState) {
      const form = new URLSearchParams({ SAMLResponse: samlResponse, ...(relayState !== undefined ? { RelayState: relayState } : {}) });
      const res = await fetch(`${gh.url}/t/${tenantId}/saml/${connectionId}/acs`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: form,
      });
      const body = await res.text();
      const requestId = res.headers.get('x-request-id')!;
      if (res.status !== 303) return { status: res.status, requestId, body, location: res.headers.get('location') };
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      const before = signIns.length;
      const next = await fetch(res.headers.get('location')!, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
      return { status: next.status, requestId, body: await next.text(), signIn: signIns.length > before ? signIns.at(-1) : undefined, location: res.headers.get('location'), cookie };
    },
    close: () => gh.stop(),
  };
}

/**
 * The audit event of an action written while handling one request (tests run on a fixed clock,
 * so "the latest event" is ambiguous; the request id is not).
 */
export async function auditOf(gh: TestGatehouse, tenantId: string, action: string, requestId: string) {
  const events = await gh.services.store.forTenant(tenantId).audit.list({ limit: 1000, action });
  return events.find((e) => e.requestId === requestId);
}
