import type { ChangeMark } from '../../directory/sync/directory-source.js';

/**
 * High-water marks of incremental sync runs.
 *
 * Active Directory: every change gets an update sequence number (USN) from the DC that applies
 * it; `uSNChanged` is the object's latest, `highestCommittedUSN` (root DSE) the DC's latest. USNs
 * are local to one DC, so a mark is stored with the DC it came from (its dsServiceName and
 * invocationId, which changes when the DC is restored from a backup) and used only there;
 * elsewhere the run reads everything (Microsoft's "Polling for Changes Using the USNChanged
 * Attribute").
 *
 * OpenLDAP and others: `modifyTimestamp` (RFC 4512 §3.4, GeneralizedTime, RFC 4517 §3.3.13),
 * read with `(modifyTimestamp>=mark)`. A change the last run did not see was made after that run
 * read the entry, so after the run started: the mark must not be later than the server's time
 * when the last run started. A client does not know the server's time (OpenLDAP publishes none,
 * and the two clocks may differ by any amount), so the mark is the largest of these lower bounds
 * of it, each computed from the server's own timestamps and from durations measured here:
 *  a. the latest modifyTimestamp the run read, minus the time the run took, minus a margin (the
 *     latest timestamp read is at most the server's time at the end of the run);
 *  b. the latest modifyTimestamp any earlier run read (read before this run started);
 *  c. that, plus the real time that passed between the earlier run and the start of this one,
 *     less a minute for clock steps (the server's clock advanced as much meanwhile);
 *  d. the previous mark.
 * Entries changed within the margin below the latest change are read again by the next run,
 * which costs an unchanged comparison, never a lost change; bound c ends that once runs are a
 * minute apart, even after a bulk import stamped every entry with the same second.
 */

/** Seconds resolution of modifyTimestamp, and the rounding of the measured run time. */
export const MODIFY_TIMESTAMP_MARGIN_MS = 5_000;
/** Real time between runs is trusted only beyond this (NTP steps, clock adjustments). */
export const CLOCK_STEP_ALLOWANCE_MS = 60_000;

/** GeneralizedTime as servers print it: `20260601120000Z`, `20260601120000.0Z`, `20260601120000.123456Z`, or with an offset. */
export function parseGeneralizedTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '00', s = '00', frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (frac) ms += Math.floor(Number(`0.${frac}`) * 1000);
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offset = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5) || '0');
    ms -= sign * offset * 60_000;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** `YYYYMMDDHHMMSSZ` (whole seconds, rounded down: a `>=` filter then includes the mark's second). */
export function formatGeneralizedTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/** A stored mark (JSON text), or undefined when absent or unreadable (the run is then a full run). */
export function parseMark(text: string | undefined): ChangeMark | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as ChangeMark;
    if (value.kind === 'modify-timestamp' && typeof value.value === 'string' && parseGeneralizedTime(value.value) !== undefined) {
      const latestOk = value.latest === undefined || (typeof value.latest === 'string' && parseGeneralizedTime(value.latest) !== undefined);
      return latestOk && (value.readAt === undefined || typeof value.readAt === 'number') ? value : { kind: value.kind, value: value.value };
    }
    if (value.kind === 'usn' && typeof value.value === 'string' && /^\d+$/.test(value.value) && typeof value.server === 'string') return value;
  } catch {
    // an unreadable mark only costs a full run
  }
  return undefined;
}

export const formatMark = (mark: ChangeMark | undefined): string | undefined => (mark ? JSON.stringify(mark) : undefined);

/** For people: `uSNChanged > 12345 on CN=DC1,...` or `modifyTimestamp >= 20260601115900Z`. */
export function describeMark(mark: ChangeMark | undefined): string {
  if (!mark) return 'none (the next run reads everything)';
  return mark.kind === 'usn' ? `uSNChanged > ${mark.value} (on ${mark.server})` : `modifyTimestamp >= ${mark.value}`;
}

export interface TimestampMarkInput {
  previous: Extract<ChangeMark, { kind: 'modify-timestamp' }> | undefined;
  /** The latest modifyTimestamp read by this run (ms), if it read any entry. */
  latestRead: number | undefined;
  /** How long this run has been reading (monotonic clock). */
  elapsedMs: number;
  /** Real time (ms since the epoch) when this run started reading, and now. */
  startedRealAt: number;
  nowReal: number;
}

/** The mark for the next run (see above); undefined when nothing was ever read. */
export function nextTimestampMark(input: TimestampMarkInput): Extract<ChangeMark, { kind: 'modify-timestamp' }> | undefined {
  const prev = input.previous;
  const prevValue = prev ? parseGeneralizedTime(prev.value) : undefined;
  const prevLatest = prev?.latest ? parseGeneralizedTime(prev.latest) : undefined;
  const candidates: number[] = [];
  if (prevValue !== undefined) candidates.push(prevValue); // d
  if (input.latestRead !== undefined) candidates.push(input.latestRead - input.elapsedMs - MODIFY_TIMESTAMP_MARGIN_MS); // a
  if (prevLatest !== undefined) {
    candidates.push(prevLatest); // b
    const gap = prev?.readAt !== undefined ? input.startedRealAt - prev.readAt : 0;
    if (gap > CLOCK_STEP_ALLOWANCE_MS) candidates.push(prevLatest + gap - CLOCK_STEP_ALLOWANCE_MS); // c
  }
  if (candidates.length === 0) return undefined;
  const latest = Math.max(prevLatest ?? -Infinity, input.latestRead ?? -Infinity);
  return {
    kind: 'modify-timestamp',
    value: formatGeneralizedTime(Math.max(...candidates)),
    ...(Number.isFinite(latest) ? { latest: formatGeneralizedTime(latest), readAt: input.nowReal } : {}),
  };
}
