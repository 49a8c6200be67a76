import os from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../logging/logger.js';
import { createServices, type Services } from '../services.js';
import type { Actor } from '../audit/audit-log.js';
import { createOutput, reportError, type Output } from './output.js';
import type { TenantStore } from '../store/tenant-store.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

/** The person at the CLI, recorded as the actor of every change they make. */
export function operatorActor(): Actor {
  let name = 'unknown';
  try {
    name = os.userInfo().username;
  } catch {
    // no passwd entry (some containers): keep "unknown"
  }
  return { type: 'operator', id: `cli:${name}` };
}

/**
 * Runs one CLI action with the services built from the configuration. Migrations are applied
 * first, so every command works on a fresh database. Log lines go to stderr at warn level, so
 * stdout carries only the command's result.
 */
export async function runWithServices(command: Command, action: (services: Services, out: Output) => Promise<void>): Promise<void> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const out = createOutput(Boolean(globals.json));
  let services: Services | undefined;
  try {
    const config = loadConfig({ file: globals.config });
    const logger = createLogger({ level: config.logging.level === 'silent' ? 'silent' : 'warn', destination: process.stderr as any });
    services = createServices(config, logger);
    await services.store.migrate();
    await action(services, out);
  } catch (error) {
    process.exitCode = reportError(error, out.json);
  } finally {
    await services?.close();
  }
}

/** The tenant's store, after checking that the tenant exists. */
export async function tenantStore(services: Services, tenantId: string): Promise<TenantStore> {
  await services.tenants.get(tenantId);
  return services.store.forTenant(tenantId);
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];
