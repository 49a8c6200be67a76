import { z } from 'zod';

/** The events a subscription can receive: `<object>.<kind>` of the change feed. */
export const WEBHOOK_EVENTS = [
  'user.created',
  'user.updated',
  'user.deleted',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.member_added',
  'group.member_removed',
] as const;

/** A subscription's event filter: an event name, `user.*`, `group.*`, or `*` for all. */
export const eventFilterSchema = z.union([z.enum(WEBHOOK_EVENTS), z.enum(['*', 'user.*', 'group.*'])]);
export type EventFilter = z.infer<typeof eventFilterSchema>;

export function eventMatches(filters: string[], eventType: string): boolean {
  return filters.some((f) => f === '*' || f === eventType || (f.endsWith('.*') && eventType.startsWith(f.slice(0, -1))));
}
