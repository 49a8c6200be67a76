import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore } from '../context.js';
import { table, isoTime } from '../output.js';

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('a tenant\'s signing keys');

  keys
    .command('list <tenant>')
    .description('the keys in the tenant\'s JWKS: pending (published, not signing yet), active, retired')
    .action(async (tenantId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const status = await s.keys.status(await tenantStore(s, tenantId));
        out.result(
          status.map((k) => ({ ...k, createdAt: isoTime(k.createdAt), signsFrom: isoTime(k.signsFrom), retiredAt: isoTime(k.retiredAt), publishUntil: isoTime(k.publishUntil) })),
          () => table(['KID', 'ALG', 'STATE', 'SIGNS FROM', 'RETIRED AT', 'PUBLISHED UNTIL'], status.map((k) => [k.kid, k.alg, k.state, isoTime(k.signsFrom), isoTime(k.retiredAt), isoTime(k.publishUntil)])),
        );
      }),
    );

  keys
    .command('rotate <tenant>')
    .description('add new signing keys: published now, signing after keys.publishAheadSeconds; the old keys stay published until their tokens expire')
    .option('--immediate', 'sign with the new keys at once (after a suspected key compromise)')
    .action(async (tenantId: string, opts: { immediate?: boolean }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const maxTokenLifetimeSeconds = await s.maxTokenLifetimeSeconds(tenantId);
        const result = await s.keys.rotate(store, { maxTokenLifetimeSeconds, immediate: Boolean(opts.immediate) });
        await s.audit.record(store, {
          actor: operatorActor(),
          action: 'keys.rotated',
          target: { type: 'tenant', id: tenantId },
          outcome: 'success',
          details: { added: result.added.map((k) => k.kid), retired: result.retired, immediate: Boolean(opts.immediate) },
        });
        const from = isoTime(result.added[0]?.signsFrom);
        out.result(
          { added: result.added.map((k) => ({ ...k, signsFrom: isoTime(k.signsFrom) })), retired: result.retired },
          () => [`rotated keys of ${tenantId}: ${result.added.map((k) => `${k.alg} ${k.kid}`).join(', ')}`, `  published now, signing from ${from}`, `  retired: ${result.retired.join(', ') || '-'}`].join('\n'),
        );
      }),
    );
}
