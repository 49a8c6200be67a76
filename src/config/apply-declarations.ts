import type { Services } from '../services.js';
import type { DeclaredTenant } from './schema.js';
import type { Actor } from '../audit/audit-log.js';

export interface DeclarationReport {
  tenant: string;
  created: boolean;
  changes: string[];
}

const CONFIG_ACTOR: Actor = { type: 'system', id: 'config' };

/**
 * Applies the tenants, apps, APIs, LDAP and SAML connections and webhooks declared in
 * configuration, idempotently: what exists and matches is left alone (no revision bump, no audit
 * noise), what differs is updated, what is missing is created. Nothing is deleted: removing a
 * declaration leaves the object in place,
 * so that a config mistake cannot wipe a tenant's apps.
 */
export async function applyDeclarations(services: Services, declared: DeclaredTenant[]): Promise<DeclarationReport[]> {
  const reports: DeclarationReport[] = [];
  for (const decl of declared) {
    const report: DeclarationReport = { tenant: decl.id, created: false, changes: [] };
    const existing = await services.store.tenants.get(decl.id);
    if (!existing) {
      await services.tenants.create({ id: decl.id, displayName: decl.displayName, status: decl.status, settings: decl.settings }, CONFIG_ACTOR);
      report.created = true;
    } else {
      const settings = decl.settings ?? existing.settings;
      if (existing.displayName !== decl.displayName || existing.status !== decl.status || JSON.stringify(existing.settings) !== JSON.stringify(settings)) {
        await services.tenants.update(decl.id, { displayName: decl.displayName, status: decl.status, settings }, CONFIG_ACTOR);
        report.changes.push('tenant');
      }
    }
    const store = services.store.forTenant(decl.id);
    // APIs first: apps refer to them.
    for (const api of decl.resources) {
      const { change } = await services.resources.upsert(store, api, CONFIG_ACTOR, { declared: true });
      if (change !== 'unchanged') report.changes.push(`resource ${api.identifier} ${change}`);
    }
    for (const client of decl.clients) {
      if (await store.clients.get(client.clientId)) {
        const change = await services.clients.replace(store, client, CONFIG_ACTOR, { declared: true });
        if (change !== 'unchanged') report.changes.push(`client ${client.clientId} updated`);
      } else {
        await services.clients.create(store, client, CONFIG_ACTOR, undefined, { declared: true });
        report.changes.push(`client ${client.clientId} created`);
      }
    }
    // After apps: a SAML connection may name one as its default app.
    for (const connection of decl.samlConnections) {
      const change = await services.saml.upsertDeclared(store, connection, CONFIG_ACTOR);
      if (change !== 'unchanged') report.changes.push(`saml connection ${connection.id} ${change}`);
    }
    for (const connection of decl.ldap) {
      const change = await services.ldap.applyDeclared(store, connection, CONFIG_ACTOR);
      if (change !== 'unchanged') report.changes.push(`ldap ${connection.id} ${change}`);
    }
    for (const hook of decl.webhooks) {
      const change = await services.webhooks.applyDeclared(store, hook, CONFIG_ACTOR);
      if (change !== 'unchanged') report.changes.push(`webhook ${hook.id} ${change}`);
    }
    reports.push(report);
  }
  return reports;
}
