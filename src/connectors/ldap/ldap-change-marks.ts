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
 * OpenLDAP and others: `modifyTimestamp` (RFC 4512 §3.4, GeneralizedTime, RFC 4517 §3.3.13).
 * The mark must not be later than the server's time when the run started, or a change made
 * during the run to an entry already read would be missed. The server's time is not known to a
 * client, and the client's own clock may differ from it; so the mark is computed from the
 * server's own timestamps: the latest modifyTimestamp the run read, minus the time the run took,
 * minus a margin. That is never later than the server's time at the start (the latest
 * timestamp read is at most the server's time at the end), whatever the clocks say. Changes are
 * then read again from a little before, which costs an unchanged re-read, never a lost change.
 */

/** Read again from this much before the computed mark (and the 1-second resolution of the timestamps). */
export const MODIFY_TIMESTAMP_MARGIN_MS = 60_000;

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
    if (value.kind === 'modify-timestamp' && typeof value.value === 'string' && parseGeneralizedTime(value.value) !== undefined) return value;
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
