import type { NewUser, UserPatch } from '../../store/repositories/user-repository.js';
import type { GroupPatch, NewGroup } from '../../store/repositories/group-repository.js';
import type { SyncObjectRecord } from '../../store/repositories/sync-repository.js';
import type { ObjectKind } from './directory-source.js';
import type { SyncChange } from './sync-changes.js';

/**
 * A unit is everything a run changes about one object: the object itself and its ledger row
 * (or a group's member list). A unit is applied atomically, alone or with other units in one
 * directory transaction; when a batch fails, each of its units is applied alone, so one broken
 * object never holds back the others and never half-applies.
 */
export interface UnitRef {
  kind: ObjectKind;
  /** The immutable id of the entry (the retry list's key). */
  ref: string;
  dn: string;
}

export type LedgerPatch = Partial<Pick<SyncObjectRecord, 'objectId' | 'dn' | 'dnKey' | 'seenRun' | 'missingSince'>>;

export interface Member {
  type: 'user' | 'group';
  id: string;
}

/** Ledger row changes: insert a new row or patch an existing one. */
export type LedgerWrite = { insert: SyncObjectRecord } | { externalId: string; kind: ObjectKind; patch: LedgerPatch };

export type SyncUnit = { ref: UnitRef; changes: SyncChange[] } & (
  | { type: 'create-user'; user: NewUser; ledger: LedgerWrite }
  | { type: 'update-user'; userId: string; patch: UserPatch; ledger: LedgerWrite | undefined }
  | { type: 'disable-user'; userId: string; since: number }
  | { type: 'delete-user'; userId: string }
  | { type: 'create-group'; group: NewGroup; ledger: LedgerWrite }
  | { type: 'update-group'; groupId: string; patch: GroupPatch; ledger: LedgerWrite | undefined }
  /** A group that left the directory: its members go (it grants nothing), the group stays until the grace period ends. */
  | { type: 'disable-group'; groupId: string; since: number; members: Member[] }
  | { type: 'delete-group'; groupId: string }
  | { type: 'members'; groupId: string; add: Member[]; remove: Member[] }
  | { type: 'user-roles'; userId: string; attributes: Record<string, unknown> }
  /** Ledger rows only (an object the directory and the tenant directory agree on, new to the ledger). */
  | { type: 'ledger'; writes: LedgerWrite[] }
);
