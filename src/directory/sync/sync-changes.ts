import type { ObjectKind } from './directory-source.js';

/**
 * The changes a sync run makes to the tenant directory, described for people (the dry run
 * prints them, runs count them). `label` is what an admin recognises: a user's name, a group's DN.
 */
export type SyncChange =
  | { op: 'create'; kind: ObjectKind; label: string; dn: string }
  | { op: 'update'; kind: ObjectKind; label: string; dn: string; fields: string[]; renamedFrom?: string | undefined; disablesAccount?: boolean | undefined }
  /** The entry left the directory or the sync scope: disabled at once (a group loses its members). */
  | { op: 'disable'; kind: ObjectKind; label: string; dn: string }
  /** A disabled object whose entry came back. */
  | { op: 'restore'; kind: ObjectKind; label: string; dn: string }
  /** Gone for longer than the tenant's grace period. */
  | { op: 'delete'; kind: ObjectKind; label: string; dn: string; missingSince: number }
  | { op: 'add-member' | 'remove-member'; group: string; member: string; memberKind: ObjectKind }
  | { op: 'roles'; label: string; roles: string[] };

/** Changes that take access away: held back when the connection's settings changed, counted by the threshold. */
export function isDestructive(change: SyncChange): boolean {
  return change.op === 'disable' || change.op === 'delete' || change.op === 'remove-member' || (change.op === 'update' && change.disablesAccount === true);
}

/** One line per change, as `gatehouse sync dry-run` prints it. */
export function describeChange(change: SyncChange): string {
  switch (change.op) {
    case 'create':
      return `+ ${change.kind} ${change.label} (${change.dn})`;
    case 'update':
      return `~ ${change.kind} ${change.label}: ${change.fields.join(', ')}${change.disablesAccount ? ' (disabled in the directory)' : ''}${change.renamedFrom ? ` (moved or renamed from ${change.renamedFrom})` : ''}`;
    case 'disable':
      return `- disable ${change.kind} ${change.label} (${change.dn}): gone from the directory or the sync scope`;
    case 'restore':
      return `+ restore ${change.kind} ${change.label} (${change.dn}): back in the directory`;
    case 'delete':
      return `x delete ${change.kind} ${change.label}: missing since ${new Date(change.missingSince).toISOString()}, grace period over`;
    case 'add-member':
      return `+ member ${change.member} -> ${change.group}`;
    case 'remove-member':
      return `- member ${change.member} -x ${change.group}`;
    case 'roles':
      return `~ roles of ${change.label}: ${change.roles.join(', ') || '(none)'}`;
  }
}
