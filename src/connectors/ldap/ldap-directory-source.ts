import { AndFilter, EqualityFilter, FilterParser, GreaterThanEqualsFilter, OrFilter, ResultCodeError, type Entry, type Filter } from 'ldapts';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging/logger.js';
import { GatehouseError } from '../../errors/gatehouse-error.js';
import type {
  ChangeMark,
  DirectoryReader,
  DirectorySource,
  ObjectKind,
  SourceGroup,
  SourceMembers,
  SourcePage,
  SourceReject,
  SourceUser,
} from '../../directory/sync/directory-source.js';
import { accountStatusAttributes, refuseBeforeBind } from './ldap-account-status.js';
import { nextTimestampMark, parseGeneralizedTime } from './ldap-change-marks.js';
import { binaryAttributeNames, formatGuid, LdapEntry, renderId } from './ldap-entry.js';
import { classifyLdapError, isDirectoryError, LdapOperationError, LdapUnavailableError } from './ldap-errors.js';
import { groupIdentity } from './ldap-group-lookup.js';
import { LdapServerPool } from './ldap-server-pool.js';
import type { LdapSession } from './ldap-session.js';
import { groupBaseDn, userBaseDn, type LdapSettings } from './ldap-settings.js';
import { mapUserEntry, userSearchAttributes } from './ldap-user-mapping.js';

/** Ids per search when entries are looked up by id (keeps filters short). */
const IDS_PER_SEARCH = 50;

/**
 * A sync run's pages can take longer than a sign-in's searches; the connection's own operation
 * timeout (5 s by default, tuned for sign-in failover) is raised to this for sync only.
 */
const SYNC_OPERATION_MS = 60_000;

/** `#'0101'B`: the optional unique identifier after a DN in a uniqueMember value (RFC 4517 §3.3.21). */
const NAME_AND_OPTIONAL_UID = /#'[01]*'B$/;

/** An error inside the run, carried through the pool untouched (so the pool does not re-run the work on another server). */
class RunFailure extends Error {
  constructor(readonly inner: unknown) {
    super('sync run failed');
    this.name = 'RunFailure';
  }
}

/** objectGUID string form back to its 16 bytes ([MS-DTYP] 2.3.4.3: the first three fields little-endian). */
export function guidBytes(guid: string): Buffer | undefined {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

/**
 * Translates what the directory or the network did to a run into Gatehouse's terms, at the
 * boundary (DESIGN.md, convention 4).
 */
export function translateSyncError(error: unknown): unknown {
  if (error instanceof RunFailure) return translateSyncError(error.inner);
  if (error instanceof LdapUnavailableError || error instanceof LdapOperationError || error instanceof GatehouseError) return error;
  if (isDirectoryError(error)) {
    const failure = classifyLdapError(error);
    const hint = error instanceof ResultCodeError && error.code === 32 ? ': a base DN of the connection does not exist' : '';
    return new GatehouseError('sync.directory_failed', `the directory failed during the run: ${failure.detail}${hint}`, { status: 502, expose: true, cause: error });
  }
  return error;
}

export interface LdapDirectorySourceOptions {
  connectionId: string;
  settings: LdapSettings;
  bindPassword: string | undefined;
  clock: Clock;
  logger: Logger;
}

/** The LDAP connection as a directory source for sync, with a pool of its own for the run. */
export class LdapDirectorySource implements DirectorySource {
  private readonly pool: LdapServerPool;

  constructor(private readonly options: LdapDirectorySourceOptions) {
    const settings = options.settings;
    this.pool = new LdapServerPool({
      connectionId: options.connectionId,
      settings: { ...settings, timeouts: { ...settings.timeouts, operationMs: Math.max(settings.timeouts.operationMs, SYNC_OPERATION_MS) }, pool: { ...settings.pool, size: 1 } },
      bindPassword: options.bindPassword,
      clock: options.clock,
      logger: options.logger,
    });
  }

  /**
   * One session for the whole run: marks are only valid on the server that issued them, and a
   * paged search cannot move to another server halfway. The servers are tried in order to start
   * (failover as for sign-in); a server lost during the run fails the run, and the next run
   * starts again (on whichever server answers).
   */
  async read<T>(work: (reader: DirectoryReader) => Promise<T>): Promise<T> {
    try {
      return await this.pool.withService(async (session, server) => {
        let reader: LdapDirectoryReader;
        try {
          reader = await LdapDirectoryReader.open(session, server.endpoint.url, this.options.settings, this.options.clock);
        } catch (error) {
          // Reading the root DSE is the first search: a server failing there may be failed over.
          if (isDirectoryError(error) && classifyLdapError(error).serverFailure) throw error;
          throw new RunFailure(error);
        }
        try {
          return await work(reader);
        } catch (error) {
          throw new RunFailure(error);
        }
      });
    } catch (error) {
      throw translateSyncError(error);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

interface RootDse {
  highestCommittedUsn: string | undefined;
  serverId: string | undefined;
}

async function readRootDse(session: LdapSession): Promise<RootDse> {
  const [entry] = await session.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['highestCommittedUSN', 'dsServiceName'] });
  const root = entry ? new LdapEntry(entry) : undefined;
  const usn = root?.first('highestCommittedUSN');
  const service = root?.first('dsServiceName');
  let serverId = service;
  if (service) {
    // invocationId changes when the DC's database is restored: a mark from before is then void.
    try {
      const [settings] = await session.search(service, { scope: 'base', filter: '(objectClass=*)', attributes: ['invocationId'], explicitBufferAttributes: binaryAttributeNames(['invocationId']) });
      const id = settings ? new LdapEntry(settings).bytes('invocationId') : undefined;
      if (id?.length === 16) serverId = `${service}#${formatGuid(id)}`;
    } catch (error) {
      if (!(error instanceof ResultCodeError)) throw error;
      // not readable by the service account: the DC's name alone identifies it
    }
  }
  return { highestCommittedUsn: usn && /^\d+$/.test(usn) ? usn : undefined, serverId };
}

/** Reads one directory for one run (one session, one server). */
class LdapDirectoryReader implements DirectoryReader {
  /** The latest modifyTimestamp read, for the next mark (ms; 0 when none). */
  private latestTimestamp = 0;
  private readonly startedRealAt = Date.now();
  private readonly userFilter: Filter;
  private readonly groupFilter: Filter;
  private readonly pageSize: number;

  private constructor(
    private readonly session: LdapSession,
    readonly server: string,
    private readonly settings: LdapSettings,
    private readonly clock: Clock,
    readonly tracking: 'usn' | 'modify-timestamp' | 'none',
    private readonly root: RootDse,
  ) {
    this.userFilter = FilterParser.parseString(settings.users.filter);
    this.groupFilter = FilterParser.parseString(settings.groups.filter);
    this.pageSize = settings.sync.pageSize;
  }

  static async open(session: LdapSession, server: string, settings: LdapSettings, clock: Clock): Promise<LdapDirectoryReader> {
    const root = await readRootDse(session);
    const wanted = settings.sync.changeTracking;
    let tracking: LdapDirectoryReader['tracking'];
    if (wanted === 'none') tracking = 'none';
    else if (wanted === 'modify-timestamp') tracking = 'modify-timestamp';
    else if (root.highestCommittedUsn !== undefined && root.serverId !== undefined) tracking = 'usn';
    else if (wanted === 'usn') {
      throw new GatehouseError('sync.change_tracking_unavailable', `sync.changeTracking is usn, but ${server} publishes no highestCommittedUSN in its root DSE (not Active Directory?)`);
    } else tracking = 'modify-timestamp';
    return new LdapDirectoryReader(session, server, settings, clock, tracking, root);
  }

  canResumeFrom(mark: ChangeMark | undefined): boolean {
    if (!mark || this.tracking === 'none') return false;
    if (mark.kind === 'usn') return this.tracking === 'usn' && mark.server === this.root.serverId;
    return this.tracking === 'modify-timestamp';
  }

  private trackingAttributes(): string[] {
    return this.tracking === 'modify-timestamp' ? ['modifyTimestamp'] : [];
  }

  /** The filter, narrowed to entries changed since the mark. */
  private since(filter: Filter, mark: ChangeMark | undefined): Filter {
    if (!mark || !this.canResumeFrom(mark)) return filter;
    const changed =
      mark.kind === 'usn'
        ? new GreaterThanEqualsFilter({ attribute: 'uSNChanged', value: (BigInt(mark.value) + 1n).toString() })
        : new GreaterThanEqualsFilter({ attribute: 'modifyTimestamp', value: mark.value });
    return new AndFilter({ filters: [filter, changed] });
  }

  private noteTimestamp(entry: LdapEntry): void {
    const text = entry.first('modifyTimestamp');
    const at = text ? parseGeneralizedTime(text) : undefined;
    if (at !== undefined && at > this.latestTimestamp) this.latestTimestamp = at;
  }

  private async *pages(base: string, scope: 'sub' | 'one', filter: Filter, attributes: string[], binary: string[]): AsyncGenerator<LdapEntry[]> {
    for await (const page of this.session.searchPages(base, { scope, filter, attributes, explicitBufferAttributes: binary, paged: { pageSize: this.pageSize } })) {
      yield page.map((e) => new LdapEntry(e));
    }
  }

  // ---- users -----------------------------------------------------------------------------

  private userAttributes(): string[] {
    return userSearchAttributes(this.settings, [...accountStatusAttributes(this.settings), ...this.trackingAttributes()]);
  }

  private userBinary(): string[] {
    return this.settings.attributes.idFormat === 'guid' ? binaryAttributeNames([this.settings.attributes.id]) : [];
  }

  private toUsers(entries: LdapEntry[]): SourcePage<SourceUser> {
    const items: SourceUser[] = [];
    const rejects: SourceReject[] = [];
    const now = this.clock.now();
    for (const entry of entries) {
      this.noteTimestamp(entry);
      const mapped = mapUserEntry(entry, this.settings);
      if (!mapped) {
        rejects.push({ kind: 'user', dn: entry.dn, reason: `the entry has no ${this.settings.attributes.id} (immutable id) or no ${this.settings.attributes.username} (user name)` });
        continue;
      }
      items.push({ externalId: mapped.externalId, dn: entry.dn, mapped, disabled: refuseBeforeBind(entry, this.settings, now)?.reason === 'account_disabled' });
    }
    return { items, rejects };
  }

  async *users(since: ChangeMark | undefined): AsyncIterable<SourcePage<SourceUser>> {
    const s = this.settings;
    for await (const entries of this.pages(userBaseDn(s), s.users.scope, this.since(this.userFilter, since), this.userAttributes(), this.userBinary())) {
      yield this.toUsers(entries);
    }
  }

  // ---- groups ----------------------------------------------------------------------------

  private get groupsSynced(): boolean {
    return this.settings.groups.mode !== 'none';
  }

  private groupBinary(): string[] {
    return this.settings.groups.idFormat === 'guid' ? binaryAttributeNames([this.settings.groups.idAttribute]) : [];
  }

  private toGroup(entry: LdapEntry): SourceGroup {
    this.noteTimestamp(entry);
    const g = groupIdentity(entry, this.settings);
    return { externalId: g.externalId, dn: g.dn, name: g.dn, displayName: g.displayName };
  }

  async *groups(since: ChangeMark | undefined): AsyncIterable<SourcePage<SourceGroup>> {
    if (!this.groupsSynced) return;
    const g = this.settings.groups;
    const attributes = [g.idAttribute, g.nameAttribute, ...this.trackingAttributes()];
    for await (const entries of this.pages(groupBaseDn(this.settings), g.scope, this.since(this.groupFilter, since), attributes, this.groupBinary())) {
      yield { items: entries.map((e) => this.toGroup(e)), rejects: [] };
    }
  }

  /** The attribute of a group entry that lists its members. */
  private memberAttribute(): string {
    switch (this.settings.groups.mode) {
      case 'groupOfUniqueNames':
        return 'uniqueMember';
      case 'posixGroup':
        return 'memberUid';
      default:
        // groupOfNames, and Active Directory groups (memberOf mode reads the groups' member too).
        return 'member';
    }
  }

  /**
   * Every value of the member attribute. Active Directory returns at most MaxValRange values
   * (1500) of an attribute in one search and names the rest `member;range=1500-*`: they are
   * asked for range by range ([MS-ADTS] 3.1.1.3.1.3.3, ranged retrieval).
   */
  private async memberValues(entry: LdapEntry): Promise<string[]> {
    const attribute = this.memberAttribute();
    const values = [...entry.all(attribute)];
    const rangeKey = Object.keys(entry.raw).find((k) => k.toLowerCase().startsWith(`${attribute.toLowerCase()};range=`));
    if (!rangeKey) return values;
    let key: string | undefined = rangeKey;
    let raw: Entry = entry.raw;
    while (key) {
      const value = raw[key];
      values.push(...(Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v))));
      const m = /;range=\d+-(\d+|\*)$/i.exec(key);
      if (!m || m[1] === '*') break;
      const next = `${attribute};range=${Number(m[1]) + 1}-*`;
      const [more] = await this.session.search(entry.dn, { scope: 'base', filter: '(objectClass=*)', attributes: [next] });
      if (!more) break;
      raw = more;
      key = Object.keys(more).find((k) => k.toLowerCase().startsWith(`${attribute.toLowerCase()};range=`));
    }
    return values;
  }

  private async toMembers(entry: LdapEntry): Promise<SourceMembers> {
    this.noteTimestamp(entry);
    const g = groupIdentity(entry, this.settings);
    const values = await this.memberValues(entry);
    if (this.settings.groups.mode === 'posixGroup') return { group: { externalId: g.externalId, dn: g.dn }, memberDns: [], memberUsernames: values };
    return { group: { externalId: g.externalId, dn: g.dn }, memberDns: values.map((v) => v.replace(NAME_AND_OPTIONAL_UID, '')), memberUsernames: [] };
  }

  private memberSearchAttributes(): string[] {
    return [this.settings.groups.idAttribute, this.memberAttribute(), ...this.trackingAttributes()];
  }

  async *members(since: ChangeMark | undefined): AsyncIterable<SourcePage<SourceMembers>> {
    if (!this.groupsSynced) return;
    const g = this.settings.groups;
    for await (const entries of this.pages(groupBaseDn(this.settings), g.scope, this.since(this.groupFilter, since), this.memberSearchAttributes(), this.groupBinary())) {
      const items: SourceMembers[] = [];
      for (const entry of entries) items.push(await this.toMembers(entry));
      yield { items, rejects: [] };
    }
  }

  async membersOfGroupsNaming(users: Array<{ dn: string; username: string }>): Promise<SourceMembers[]> {
    if (!this.groupsSynced || users.length === 0) return [];
    const attribute = this.memberAttribute();
    const values = attribute === 'memberUid' ? users.map((u) => u.username) : users.map((u) => u.dn);
    const out = new Map<string, SourceMembers>();
    for (let i = 0; i < values.length; i += IDS_PER_SEARCH) {
      const naming = new OrFilter({ filters: values.slice(i, i + IDS_PER_SEARCH).map((value) => new EqualityFilter({ attribute, value })) });
      const filter = new AndFilter({ filters: [this.groupFilter, naming] });
      for await (const entries of this.pages(groupBaseDn(this.settings), this.settings.groups.scope, filter, this.memberSearchAttributes(), this.groupBinary())) {
        for (const entry of entries) {
          const members = await this.toMembers(entry);
          out.set(members.group.externalId, members);
        }
      }
    }
    return [...out.values()];
  }

  // ---- presence and lookups by id --------------------------------------------------------

  async *ids(kind: ObjectKind): AsyncIterable<string[]> {
    const s = this.settings;
    if (kind === 'group' && !this.groupsSynced) return;
    const [base, scope, filter, attribute, format] =
      kind === 'user'
        ? [userBaseDn(s), s.users.scope, this.userFilter, s.attributes.id, s.attributes.idFormat]
        : [groupBaseDn(s), s.groups.scope, this.groupFilter, s.groups.idAttribute, s.groups.idFormat];
    const binary = format === 'guid' ? binaryAttributeNames([attribute]) : [];
    for await (const entries of this.pages(base, scope, filter, [attribute], binary)) {
      const ids: string[] = [];
      for (const entry of entries) {
        const id = kind === 'user' ? renderId(entry, attribute, format) : groupIdentity(entry, s).externalId;
        if (id) ids.push(id);
      }
      yield ids;
    }
  }

  /** An equality assertion on the id attribute; objectGUID is compared as its 16 bytes. */
  private idAssertion(attribute: string, format: 'uuid' | 'guid' | 'text', id: string): Filter | undefined {
    if (format === 'guid') {
      const bytes = guidBytes(id);
      return bytes ? new EqualityFilter({ attribute, value: bytes }) : undefined;
    }
    return new EqualityFilter({ attribute, value: id });
  }

  private async byId(kind: ObjectKind, ids: string[], withMembers = false): Promise<LdapEntry[]> {
    const s = this.settings;
    const groupAttributes = withMembers ? this.memberSearchAttributes() : [s.groups.idAttribute, s.groups.nameAttribute, ...this.trackingAttributes()];
    const [base, scope, filter, attribute, format, attributes, binary] =
      kind === 'user'
        ? [userBaseDn(s), s.users.scope, this.userFilter, s.attributes.id, s.attributes.idFormat, this.userAttributes(), this.userBinary()]
        : [groupBaseDn(s), s.groups.scope, this.groupFilter, s.groups.idAttribute, s.groups.idFormat, groupAttributes, this.groupBinary()];
    const out: LdapEntry[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_SEARCH) {
      const assertions = ids
        .slice(i, i + IDS_PER_SEARCH)
        .map((id) => this.idAssertion(attribute, format, id))
        .filter((f): f is Filter => f !== undefined);
      if (assertions.length === 0) continue;
      const either = new AndFilter({ filters: [filter, assertions.length === 1 ? assertions[0]! : new OrFilter({ filters: assertions })] });
      for await (const entries of this.pages(base, scope, either, attributes, binary)) out.push(...entries);
    }
    return out;
  }

  async usersById(ids: string[]): Promise<SourceUser[]> {
    return this.toUsers(await this.byId('user', ids)).items;
  }

  async groupsById(ids: string[]): Promise<SourceGroup[]> {
    if (!this.groupsSynced) return [];
    return (await this.byId('group', ids)).map((e) => this.toGroup(e));
  }

  async membersById(ids: string[]): Promise<SourceMembers[]> {
    if (!this.groupsSynced) return [];
    const out: SourceMembers[] = [];
    for (const entry of await this.byId('group', ids, true)) out.push(await this.toMembers(entry));
    return out;
  }

  markAfterRun(previous: ChangeMark | undefined, elapsedMs: number): ChangeMark | undefined {
    if (this.tracking === 'none') return undefined;
    if (this.tracking === 'usn') {
      // highestCommittedUSN was read before anything else: every later change has a higher USN.
      return { kind: 'usn', value: this.root.highestCommittedUsn!, server: this.root.serverId! };
    }
    return nextTimestampMark({
      previous: previous?.kind === 'modify-timestamp' ? previous : undefined,
      latestRead: this.latestTimestamp === 0 ? undefined : this.latestTimestamp,
      elapsedMs,
      // Real time, not the injected clock: this measures how far the server's clock has moved
      // between two runs, which a test's calendar must not stand in for.
      startedRealAt: this.startedRealAt,
      nowReal: Date.now(),
    });
  }
}
