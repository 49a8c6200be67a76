import { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../logging/logger.js';
import { createServices } from '../services.js';
import { reportError } from './output.js';
import { runWithServices, type GlobalOptions } from './context.js';
import { registerTenantCommands } from './commands/tenant-commands.js';
import { registerClientCommands } from './commands/client-commands.js';
import { registerResourceCommands } from './commands/resource-commands.js';
import { registerKeysCommands } from './commands/keys-commands.js';
import { registerUserCommands } from './commands/user-commands.js';
import { registerAuditCommands } from './commands/audit-commands.js';
import { registerMfaCommands } from './commands/mfa-commands.js';
import { registerSamlCommands } from './commands/saml-commands.js';
import { registerLdapCommands } from './commands/ldap-commands.js';
import { registerWebhookCommands } from './commands/webhook-commands.js';
import { registerSyncCommands } from './commands/sync-commands.js';

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: multi-tenant identity federation and single sign-on')
    .option('-c, --config <file>', 'configuration file merged over config/default.yaml (or GATEHOUSE_CONFIG)')
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .exitOverride((err) => {
      // Unknown commands, missing arguments: exit 2 with commander's own message (already printed).
      process.exit(err.exitCode === 0 ? 0 : 2);
    });

  program
    .command('start')
    .description('start the server (migrations run first)')
    .action(async (_opts, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      let config;
      let services;
      try {
        config = loadConfig({ file: globals.config });
        services = createServices(config, createLogger({ level: config.logging.level }));
      } catch (error) {
        process.exitCode = reportError(error, Boolean(globals.json));
        return;
      }
      const { logger } = services;
      // Loaded here so that other commands do not pay for (or print the warnings of) oidc-provider.
      const { startServer } = await import('../server.js');
      const running = await startServer(services).catch(async (error) => {
        logger.fatal({ err: error }, 'could not start');
        await services.close();
        process.exit(1);
      });
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
        await running.close();
        await services.close();
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });

  program
    .command('migrate')
    .description('apply pending database migrations (start does this too)')
    .option('--status', 'only show which migrations are applied and pending')
    .action(async (opts: { status?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      // runWithServices migrates before running the action; --status must not, so it opens the store itself.
      if (opts.status) {
        try {
          const config = loadConfig({ file: globals.config });
          const services = createServices(config, createLogger({ level: 'warn', destination: process.stderr as any }));
          try {
            const status = await services.store.migrationStatus();
            const out = { applied: status.applied, pending: status.pending };
            process.stdout.write(globals.json ? `${JSON.stringify(out, null, 2)}\n` : `applied: ${out.applied.join(', ') || '-'}\npending: ${out.pending.join(', ') || '-'}\n`);
          } finally {
            await services.close();
          }
        } catch (error) {
          process.exitCode = reportError(error, Boolean(globals.json));
        }
        return;
      }
      await runWithServices(cmd, async (s, out) => {
        const status = await s.store.migrationStatus();
        out.result({ applied: status.applied, pending: status.pending }, () => `database is up to date (${status.applied.length} migrations applied)`);
      });
    });

  registerTenantCommands(program);
  registerClientCommands(program);
  registerResourceCommands(program);
  registerKeysCommands(program);
  registerUserCommands(program);
  registerAuditCommands(program);
  registerMfaCommands(program);
  registerSamlCommands(program);
  registerLdapCommands(program);
  registerWebhookCommands(program);
  registerSyncCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
