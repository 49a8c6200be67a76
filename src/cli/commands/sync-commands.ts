import type { Command } from 'commander';
import { runWithServices, operatorActor, tenantStore } from '../context.js';
import { CliUsageError, isoTime, table } from '../output.js';
import { ProgressBar } from '../progress-bar.js';
import { describeChange, type SyncChange } from '../../directory/sync/sync-changes.js';
import type { ReportView } from '../../directory/sync/sync-report.js';
import { summarise } from '../../directory/sync/sync-service.js';

/** Exit status of `sync run` when the run stopped for an admin's confirmation (threshold, changed settings). */
export const EXIT_NEEDS_CONFIRMATION = 3;

const n = (x: number | undefined) => (x ?? 0).toLocaleString('en-US');

function counts(report: Pick<ReportView, 'users' | 'groups' | 'memberships' | 'roles'>): string[] {
  const kind = (name: string, c: ReportView['users']) =>
    `${name.padEnd(7)} read ${n(c.read)}, created ${n(c.created)}, updated ${n(c.updated)}, unchanged ${n(c.unchanged)}, disabled ${n(c.disabled)}, restored ${n(c.restored)}, deleted ${n(c.deleted)}, failed ${n(c.failed)}`;
  return [kind('users', report.users), kind('groups', report.groups), `members added ${n(report.memberships.added)}, removed ${n(report.memberships.removed)}; roles updated ${n(report.roles.updated)}`];
}

function renderReport(report: ReportView, errorsShown = 20): string[] {
  const lines = counts(report);
  const held = report.held;
  if (held.disable + held.delete + held.removeMember + held.disableByDirectory > 0) {
    lines.push(`held back (settings changed): ${n(held.disable)} to disable, ${n(held.delete)} to delete, ${n(held.removeMember)} memberships to remove, ${n(held.disableByDirectory)} accounts disabled in the directory`);
  }
  if (report.missing.users + report.missing.groups > 0) lines.push(`gone from the directory or the scope: ${n(report.missing.users)} users, ${n(report.missing.groups)} groups`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  if (report.errorCount) {
    lines.push(`errors (${n(report.errorCount)}; retried at the next run):`);
    for (const e of report.errors.slice(0, errorsShown)) lines.push(`  ${e.kind} ${e.dn}: ${e.code}: ${e.reason}`);
    if (report.errorCount > errorsShown) lines.push(`  ... ${n(report.errorCount - errorsShown)} more (gatehouse sync history <tenant> <connection> --run <id>)`);
  }
  return lines;
}

function positiveInt(value: string, option: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new CliUsageError(`${option} is a whole number of at least 1`);
  return Number(value);
}

export function registerSyncCommands(program: Command): void {
  const sync = program.command('sync').description('directory sync of an LDAP / Active Directory connection into the tenant directory');

  sync
    .command('run <tenant> <connection>')
    .description('run a sync now (incremental when possible); exits 3 when it stopped for a confirmation, 1 when it failed')
    .option('--full', 'read the whole directory even when an incremental run is possible')
    .option('--confirm-deletions', 'lift the deletion threshold and the settings-changed guard for this run (check with dry-run first)')
    .action(async (tenantId: string, connectionId: string, opts: { full?: boolean; confirmDeletions?: boolean }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const store = await tenantStore(s, tenantId);
        const bar = out.json ? undefined : new ProgressBar();
        const controller = new AbortController();
        const interrupt = () => controller.abort(new Error('interrupted'));
        process.once('SIGINT', interrupt);
        process.once('SIGTERM', interrupt);
        let result;
        try {
          result = await s.sync.run(store, connectionId, {
            trigger: 'cli',
            actor: operatorActor(),
            full: opts.full,
            confirmDeletions: opts.confirmDeletions,
            onProgress: bar ? (p) => bar.update(p) : undefined,
            signal: controller.signal,
          });
        } finally {
          bar?.done();
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
        }
        const r = result!;
        out.result({ ...r, startedAt: isoTime(r.startedAt), finishedAt: isoTime(r.finishedAt) }, () =>
          [
            `sync run ${r.number} of ${connectionId} (${r.mode}, ${r.server ?? 'no server'}): ${r.status}${r.reason ? ` [${r.reason}]` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`,
            ...(r.message ? [`  ${r.message}`] : []),
            ...renderReport(r.report).map((l) => `  ${l}`),
            `  mark: ${r.markBefore} -> ${r.markAfter}`,
          ].join('\n'),
        );
        if (r.status === 'stopped') process.exitCode = EXIT_NEEDS_CONFIRMATION;
        else if (r.status !== 'succeeded') process.exitCode = 1;
      }),
    );

  sync
    .command('dry-run <tenant> <connection>')
    .description('show what a run would change (creates, updates, disables, deletes, memberships) without writing anything')
    .option('--full', 'as a full run')
    .option('--confirm-deletions', 'as a run confirmed with --confirm-deletions')
    .option('--limit <n>', 'changes listed (JSON: at most this many in "changes"; all are counted)', '1000')
    .action(async (tenantId: string, connectionId: string, opts: { full?: boolean; confirmDeletions?: boolean; limit: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const limit = positiveInt(opts.limit, '--limit');
        const store = await tenantStore(s, tenantId);
        const changes: SyncChange[] = [];
        let total = 0;
        const result = await s.sync.dryRun(store, connectionId, {
          full: opts.full,
          confirmDeletions: opts.confirmDeletions,
          onChange: (change) => {
            total++;
            if (total > limit) return;
            // People see the changes as they are found; --json collects them.
            if (out.json) changes.push(change);
            else process.stdout.write(`${describeChange(change)}\n`);
          },
        });
        out.result({ ...result, changes, changesTotal: total, changesListed: Math.min(total, limit) }, () =>
          [
            ...(total > limit ? [`... and ${n(total - limit)} more change(s)`] : []),
            `dry run of ${connectionId} (${result.mode}, ${result.server}): ${n(total)} change(s); nothing was written`,
            result.outcome === 'stopped' ? `  a run would stop [${result.reason}]: ${result.message}` : '  a run would apply them',
            ...renderReport(result.report).map((l) => `  ${l}`),
          ].join('\n'),
        );
      }),
    );

  sync
    .command('status <tenant> <connection>')
    .description('the run going on (with its progress), the last run, the schedule and what the connection has synced')
    .action(async (tenantId: string, connectionId: string, _opts, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const st = await s.sync.status(await tenantStore(s, tenantId), connectionId);
        const run = (r: ReturnType<typeof summarise> | undefined) =>
          r ? `run ${r.number} ${r.mode} ${r.status}${r.reason ? ` [${r.reason}]` : ''}, started ${isoTime(r.startedAt)}${r.finishedAt ? `, finished ${isoTime(r.finishedAt)}` : ''}` : '-';
        out.result(
          {
            ...st,
            lastSuccessAt: isoTime(st.lastSuccessAt),
            lastFullAt: isoTime(st.lastFullAt),
            schedule: { ...st.schedule, nextRunAt: isoTime(st.schedule.nextRunAt) },
          },
          () =>
            [
              `connection      ${st.connection}`,
              `running         ${st.running ? `${run(st.running)}, phase ${st.running.phase}, users ${n(st.running.users?.read)} read, groups ${n(st.running.groups?.read)} read${st.running.stale ? ' (STALE: its process is gone; the next run takes over)' : ''}` : 'no'}`,
              `last run        ${run(st.lastRun)}`,
              `last success    ${isoTime(st.lastSuccessAt) ?? '-'} (full: ${isoTime(st.lastFullAt) ?? '-'})`,
              `schedule        ${st.schedule.enabled ? `every ${st.schedule.intervalMinutes} min, full every ${st.schedule.fullEveryHours} h, next ${isoTime(st.schedule.nextRunAt)}` : 'off (runs on demand only; sync.enabled)'}`,
              `mark            ${st.mark}`,
              `synced          ${n(st.objects.users)} users, ${n(st.objects.groups)} groups; missing (disabled, awaiting deletion after ${st.deleteAfterDays} days): ${n(st.objects.missingUsers)} users, ${n(st.objects.missingGroups)} groups; to retry: ${n(st.objects.retries)}`,
              `threshold       ${[st.deletionThreshold.count !== undefined ? `${st.deletionThreshold.count} objects` : undefined, st.deletionThreshold.percent !== undefined ? `${st.deletionThreshold.percent}%` : undefined].filter(Boolean).join(' or ')}`,
              ...(st.settingsChangedSinceLastRun ? ['settings        CHANGED since the last run allowed to take access away: the next run holds such changes back until confirmed'] : []),
            ].join('\n'),
        );
      }),
    );

  sync
    .command('history <tenant> <connection>')
    .description('past runs, newest first; with --run, one run\'s report with its errors per object')
    .option('--limit <n>', 'runs listed', '20')
    .option('--run <id>', 'show this run in full')
    .action(async (tenantId: string, connectionId: string, opts: { limit: string; run?: string }, cmd: Command) =>
      runWithServices(cmd, async (s, out) => {
        const limit = positiveInt(opts.limit, '--limit');
        const store = await tenantStore(s, tenantId);
        if (opts.run) {
          const run = await s.sync.getRun(store, connectionId, opts.run);
          const report = (run.report ?? run.progress) as ReportView | undefined;
          out.result({ ...run, startedAt: isoTime(run.startedAt), finishedAt: isoTime(run.finishedAt), heartbeatAt: isoTime(run.heartbeatAt) }, () =>
            [
              `run ${run.number} (${run.id}) of ${connectionId}: ${run.mode}, ${run.status}${run.reason ? ` [${run.reason}]` : ''}, by ${run.actor.type} ${run.actor.id ?? ''} (${run.triggeredBy})`,
              `  started ${isoTime(run.startedAt)}, finished ${isoTime(run.finishedAt) ?? '-'}`,
              ...(run.message ? [`  ${run.message}`] : []),
              ...(report ? renderReport({ ...report, errors: report.errors ?? [], notes: report.notes ?? [] }, 1000).map((l) => `  ${l}`) : []),
            ].join('\n'),
          );
          return;
        }
        const runs = await s.sync.history(store, connectionId, { limit });
        out.result(
          runs.map((r) => ({ ...r, startedAt: isoTime(r.startedAt), finishedAt: isoTime(r.finishedAt), heartbeatAt: isoTime(r.heartbeatAt) })),
          () =>
            runs.length
              ? table(
                  ['RUN', 'ID', 'STARTED', 'MODE', 'TRIGGER', 'STATUS', 'USERS +/~/-', 'GROUPS +/~/-', 'MEMBERS +/-', 'ERRORS'],
                  runs.map((r) => [
                    r.number,
                    r.id,
                    isoTime(r.startedAt),
                    r.mode,
                    r.trigger,
                    `${r.status}${r.reason ? ` ${r.reason}` : ''}`,
                    r.users ? `${r.users.created}/${r.users.updated}/${r.users.disabled + r.users.deleted}` : '-',
                    r.groups ? `${r.groups.created}/${r.groups.updated}/${r.groups.disabled + r.groups.deleted}` : '-',
                    r.memberships ? `${r.memberships.added}/${r.memberships.removed}` : '-',
                    r.errorCount,
                  ]),
                )
              : 'no sync runs yet',
        );
      }),
    );
}
