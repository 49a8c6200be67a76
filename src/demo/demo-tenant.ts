import type { Services } from '../services.js';

export const DEMO_API = 'https://api.demo.example';
export const DEMO_SERVICE_CLIENT = 'demo-service';

export interface DemoInfo {
  tenantId: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  api: string;
}

/**
 * On the very first start (no tenant at all) a `demo` tenant is created with one API and one
 * service client, so that a newcomer can get a token within a minute. The client secret is
 * returned for printing once; only its digest is stored.
 */
export async function ensureDemoTenant(services: Services): Promise<DemoInfo | undefined> {
  const { config } = services;
  if (!config.demo.enabled) return undefined;
  if ((await services.store.tenants.count()) > 0) return undefined;
  const actor = { type: 'system' as const, id: 'demo-bootstrap' };
  const tenantId = config.demo.tenantId;
  await services.tenants.create({ id: tenantId, displayName: 'Demo Organisation' }, actor);
  const store = services.store.forTenant(tenantId);
  await services.resources.upsert(store, { identifier: DEMO_API, name: 'Demo API', scopes: ['read', 'write'] }, actor);
  const { secret } = await services.clients.create(
    store,
    { clientId: DEMO_SERVICE_CLIENT, name: 'Demo service', grantTypes: ['client_credentials'], resources: [{ resource: DEMO_API, scopes: ['read', 'write'] }] },
    actor,
  );
  return { tenantId, issuer: `${config.server.publicUrl}/t/${tenantId}`, clientId: DEMO_SERVICE_CLIENT, clientSecret: secret!, api: DEMO_API };
}

export function demoBanner(info: DemoInfo): string {
  return [
    '',
    '  Gatehouse created a demo tenant. Try it:',
    '',
    `    Discovery:      ${info.issuer}/.well-known/openid-configuration`,
    `    Client id:      ${info.clientId}`,
    `    Client secret:  ${info.clientSecret}   (shown once; only a digest is stored)`,
    '',
    '    curl -s -u ' + `'${info.clientId}:${info.clientSecret}'` + ` -d grant_type=client_credentials -d scope=read \\`,
    `      -d resource=${info.api} ${info.issuer}/token`,
    '',
    `  The token verifies against ${info.issuer}/jwks. Lost the secret? gatehouse client rotate-secret ${info.tenantId} ${info.clientId}`,
    '',
  ].join('\n');
}
