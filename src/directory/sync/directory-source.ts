import type { MappedUser } from '../../connectors/ldap/ldap-user-mapping.js';

/**
 * What the sync engine needs from a directory (DESIGN.md, convention 3: "a directory source
 * streams users and groups for sync"): pages of users and groups, changed since a mark or all of
 * them, the ids of everything in scope, single objects by id, and the mark to resume from.
 * Pages are handed over as they arrive, so the engine never holds the whole directory.
 */

/** Where an incremental run resumes. A mark is only valid on the server that issued it (`server`). */
export type ChangeMark =
  | {
      kind: 'modify-timestamp';
      /** The filter's bound: entries with modifyTimestamp >= this are read. */
      value: string;
      /** The latest modifyTimestamp read so far, and when (real time, ms) a run had read it. */
      latest?: string | undefined;
      readAt?: number | undefined;
    }
  | { kind: 'usn'; value: string; server: string };

export type ObjectKind = 'user' | 'group';

export interface SourceUser {
  externalId: string;
  dn: string;
  /** The mapping shared with sign-in (ldap-user-mapping.ts). */
  mapped: MappedUser;
  /** The directory itself disables the account (AD ACCOUNTDISABLE, ppolicy's administrative lock). */
  disabled: boolean;
}

export interface SourceGroup {
  externalId: string;
  dn: string;
  /** The name apps see in the `groups` claim: the DN, as sign-in names it. */
  name: string;
  displayName: string | undefined;
}

/** A group's direct members as the directory lists them: DNs (users or groups) or user names (posixGroup). */
export interface SourceMembers {
  group: { externalId: string; dn: string };
  memberDns: string[];
  memberUsernames: string[];
}

/** An entry the engine cannot take (no immutable id, no user name): reported with its reason. */
export interface SourceReject {
  kind: ObjectKind;
  dn: string;
  reason: string;
}

export interface SourcePage<T> {
  items: T[];
  rejects: SourceReject[];
}

export interface DirectoryReader {
  /** How this directory tracks changes (decided from its root DSE and the settings). */
  readonly tracking: 'usn' | 'modify-timestamp' | 'none';
  /** Whether an incremental run may resume from this mark on this server. */
  canResumeFrom(mark: ChangeMark | undefined): boolean;
  users(since: ChangeMark | undefined): AsyncIterable<SourcePage<SourceUser>>;
  groups(since: ChangeMark | undefined): AsyncIterable<SourcePage<SourceGroup>>;
  members(since: ChangeMark | undefined): AsyncIterable<SourcePage<SourceMembers>>;
  /** The members of the groups that name any of these users (users new to the ledger in an incremental run). */
  membersOfGroupsNaming(users: Array<{ dn: string; username: string }>): Promise<SourceMembers[]>;
  /** Ids of every entry in scope (presence scan): one attribute per entry. */
  ids(kind: ObjectKind): AsyncIterable<string[]>;
  /** The entries in scope among these ids (retries, and a last check before anything is disabled). */
  usersById(ids: string[]): Promise<SourceUser[]>;
  groupsById(ids: string[]): Promise<SourceGroup[]>;
  /** The members of these groups (by the groups' ids). */
  membersById(ids: string[]): Promise<SourceMembers[]>;
  /** The mark to store when the run succeeds (valid for changes after this run started). */
  markAfterRun(previous: ChangeMark | undefined, elapsedMs: number): ChangeMark | undefined;
  /** The server the run reads from (reports). */
  readonly server: string;
}

export interface DirectorySource {
  /** Runs `work` with one reader bound to one server for the whole run (marks are per server). */
  read<T>(work: (reader: DirectoryReader) => Promise<T>): Promise<T>;
}
