import type { SyncReport } from '../directory/sync/sync-report.js';

type Progress = ReturnType<SyncReport['progress']>;

const WIDTH = 24;
const n = (x: number) => x.toLocaleString('en-US');

/** One line describing a run's progress: the phase, entries read against the last full run's totals, changes so far. */
export function progressLine(p: Progress, elapsedMs: number): string {
  const phase = p.phase;
  const reading = phase === 'groups' || phase === 'memberships' ? 'groups' : 'users';
  const done = reading === 'users' ? p.users.read : p.groups.read;
  const expected = reading === 'users' ? p.expected.users : p.expected.groups;
  let bar = '';
  if (expected && (phase === 'users' || phase === 'groups')) {
    const share = Math.min(1, done / Math.max(expected, 1));
    const filled = Math.round(share * WIDTH);
    bar = ` [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(share * 100)}%`;
  }
  const rate = elapsedMs > 500 ? ` ${n(Math.round(((p.users.read + p.groups.read) * 1000) / elapsedMs))}/s` : '';
  const changes = p.users.created + p.users.updated + p.groups.created + p.groups.updated + p.memberships.added + p.memberships.removed;
  return `${phase.padEnd(11)}${bar} users ${n(p.users.read)}${p.expected.users ? `/~${n(p.expected.users)}` : ''} groups ${n(p.groups.read)}${rate} · ${n(changes)} changes${p.errorCount ? ` · ${n(p.errorCount)} errors` : ''}`;
}

/**
 * The CLI's progress display on stderr (stdout carries the result): redrawn in place on a
 * terminal, one line per phase otherwise (logs, CI).
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastPhase: string | undefined;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(p: Progress): void {
    const line = progressLine(p, Date.now() - this.started);
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line.slice(0, (this.stream.columns ?? 120) - 1)}`);
      this.drawn = true;
    } else if (p.phase !== this.lastPhase) {
      this.stream.write(`${line}\n`);
    }
    this.lastPhase = p.phase;
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
  }
}
