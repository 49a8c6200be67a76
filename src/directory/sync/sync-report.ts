import type { ObjectKind } from './directory-source.js';
import { isDestructive, type SyncChange } from './sync-changes.js';

/**
 * What a run did, counted as it goes: the progress shown while it runs (CLI progress bar,
 * `gatehouse sync status`) and the report kept in its history afterwards. Errors are kept per
 * object with their reason, up to a cap (a broken mapping can fail every entry of a large
 * directory; the count stays exact).
 */

/** Errors kept in a report; the rest are counted. */
export const MAX_REPORTED_ERRORS = 200;

export type SyncPhase = 'starting' | 'users' | 'groups' | 'memberships' | 'retries' | 'presence' | 'missing' | 'deletions' | 'roles' | 'finishing';

export interface KindCounts {
  /** Entries read from the directory. */
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Disabled because they left the directory or the sync scope. */
  disabled: number;
  restored: number;
  deleted: number;
  failed: number;
}

const zero = (): KindCounts => ({ read: 0, created: 0, updated: 0, unchanged: 0, disabled: 0, restored: 0, deleted: 0, failed: 0 });

export interface ObjectError {
  kind: ObjectKind;
  dn: string;
  /** A stable code (`sync.object_rejected`, `sync.username_conflict`, ...). */
  code: string;
  reason: string;
}

export interface ReportView {
  phase: SyncPhase;
  users: KindCounts;
  groups: KindCounts;
  memberships: { added: number; removed: number };
  roles: { updated: number };
  /** Destructive changes found but not made (settings changed since the last run that could make them). */
  held: { disable: number; delete: number; removeMember: number; disableByDirectory: number };
  /** Objects this run found gone (before the threshold decided). */
  missing: { users: number; groups: number };
  /** Estimated totals, from the previous full run, for a progress bar. */
  expected: { users: number | undefined; groups: number | undefined };
  errors: ObjectError[];
  errorCount: number;
  notes: string[];
  timings: Partial<Record<SyncPhase, number>>;
}

export class SyncReport {
  private current: SyncPhase = 'starting';
  private phaseStarted = performance.now();
  /** Milliseconds spent in each phase (where a run's time goes). */
  readonly timings: Partial<Record<SyncPhase, number>> = {};

  get phase(): SyncPhase {
    return this.current;
  }

  set phase(next: SyncPhase) {
    const now = performance.now();
    this.timings[this.current] = Math.round((this.timings[this.current] ?? 0) + now - this.phaseStarted);
    const changed = next !== this.current;
    this.current = next;
    this.phaseStarted = now;
    if (changed) for (const listener of this.phaseListeners) listener(next);
  }

  private readonly phaseListeners: Array<(phase: SyncPhase) => void> = [];

  onPhase(listener: (phase: SyncPhase) => void): void {
    this.phaseListeners.push(listener);
  }
  readonly users = zero();
  readonly groups = zero();
  readonly memberships = { added: 0, removed: 0 };
  readonly roles = { updated: 0 };
  readonly held = { disable: 0, delete: 0, removeMember: 0, disableByDirectory: 0 };
  readonly missing = { users: 0, groups: 0 };
  readonly expected: ReportView['expected'] = { users: undefined, groups: undefined };
  readonly errors: ObjectError[] = [];
  errorCount = 0;
  /** Changes made (or shown by a dry run) that take access away. */
  destructive = 0;
  readonly notes: string[] = [];
  private readonly listeners: Array<(change: SyncChange) => void> = [];

  kind(kind: ObjectKind): KindCounts {
    return kind === 'user' ? this.users : this.groups;
  }

  onChange(listener: (change: SyncChange) => void): void {
    this.listeners.push(listener);
  }

  /** A change made (or, in a dry run, that would be made). */
  change(change: SyncChange): void {
    switch (change.op) {
      case 'create':
        this.kind(change.kind).created++;
        break;
      case 'update':
        this.kind(change.kind).updated++;
        break;
      case 'disable':
        this.kind(change.kind).disabled++;
        break;
      case 'restore':
        this.kind(change.kind).restored++;
        break;
      case 'delete':
        this.kind(change.kind).deleted++;
        break;
      case 'add-member':
        this.memberships.added++;
        break;
      case 'remove-member':
        this.memberships.removed++;
        break;
      case 'roles':
        this.roles.updated++;
        break;
    }
    if (isDestructive(change)) this.destructive++;
    for (const listener of this.listeners) listener(change);
  }

  error(error: ObjectError): void {
    this.kind(error.kind).failed++;
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(error);
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Anything changed in the tenant directory (or would have, in a dry run). */
  get changed(): boolean {
    const k = (c: KindCounts) => c.created + c.updated + c.disabled + c.restored + c.deleted;
    return k(this.users) + k(this.groups) + this.memberships.added + this.memberships.removed + this.roles.updated > 0;
  }

  view(): ReportView {
    return {
      phase: this.phase,
      users: { ...this.users },
      groups: { ...this.groups },
      memberships: { ...this.memberships },
      roles: { ...this.roles },
      held: { ...this.held },
      missing: { ...this.missing },
      expected: { ...this.expected },
      errors: [...this.errors],
      errorCount: this.errorCount,
      notes: [...this.notes],
      timings: { ...this.timings },
    };
  }

  /** The small part written while the run goes on (no error list). */
  progress(): Omit<ReportView, 'errors' | 'notes' | 'timings'> {
    const { errors: _errors, notes: _notes, timings: _timings, ...rest } = this.view();
    return rest;
  }
}
