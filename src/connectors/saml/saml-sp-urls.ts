/**
 * Gatehouse's endpoints as the service provider of one connection. The entity id is the metadata
 * URL (a common convention that lets a partner fetch our metadata from our own name); all of them
 * derive from `server.publicUrl`, so changing the public URL changes them (partners must be told).
 */
export interface SamlSpUrls {
  entityId: string;
  metadata: string;
  /** Assertion Consumer Service, HTTP-POST ([SAMLProf] 4.1.3.5). */
  acs: string;
  /** Single Logout Service, HTTP-Redirect and HTTP-POST ([SAMLProf] 4.4). */
  slo: string;
  /** Where the browser lands after the ACS, same-site, so the sign-in's cookies are sent again. */
  continue: string;
}

export function samlSpUrls(publicUrl: string, tenantId: string, connectionId: string): SamlSpUrls {
  const base = `${publicUrl.replace(/\/+$/, '')}/t/${tenantId}/saml/${connectionId}`;
  return { entityId: `${base}/metadata`, metadata: `${base}/metadata`, acs: `${base}/acs`, slo: `${base}/slo`, continue: `${base}/continue` };
}
