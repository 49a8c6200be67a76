import type { Command } from 'commander';
import { runWithServices, tenantStore } from '../context.js';
import { table, isoTime } from '../output.js';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log of a tenant');
  audit
    .command('list <tenant>')
    .description('newest events first')
    .option('--limit <n>', 'at most this many events', '50')
    .option('--action <action>', 'only this action (a trailing * matches a prefix: signin.*)')
    .option('--before <id>', 'events older than this event id (paging)')
    .action(async (tenantId: string, opts: { limit: string; action?: string; before?: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const events = await (await tenantStore(s, tenantId)).audit.list({ limit: Number(opts.limit), action: opts.action, before: opts.before });
        out.result(
          events.map((e) => ({ ...e, occurredAt: isoTime(e.occurredAt) })),
          () =>
            events.length
              ? table(
                  ['TIME', 'ACTION', 'OUTCOME', 'REASON', 'ACTOR', 'TARGET', 'IP'],
                  events.map((e) => [isoTime(e.occurredAt), e.action, e.outcome, e.reason, `${e.actorType}${e.actorId ? `:${e.actorId}` : ''}`, e.targetId ? `${e.targetType}:${e.targetId}` : e.targetType, e.clientIp]),
                )
              : 'no events',
        );
      }),
    );
}
