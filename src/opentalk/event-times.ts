/** The time fields of an event: the reference's rules (§3.4) and what is stored for them. */
import type { EventRow } from "../db/schema";
import { OpenTalkError } from "../lib/errors";
import type { DateTimeTZInput } from "./events.schemas";
import { buildRecurrence, checkPatternLines, fromFloating, lastOccurrence, type Recurrence } from "./recurrence";

const DAY = 86_400_000;

export interface EventTimes {
  isTimeIndependent: boolean;
  isAllDay: boolean | null;
  startsAt: number | null;
  startsAtTz: string | null;
  endsAt: number | null;
  endsAtTz: string | null;
  lastEndsAt: number | null;
  recurrencePattern: string[];
}

export const TIME_INDEPENDENT: EventTimes = {
  isTimeIndependent: true,
  isAllDay: null,
  startsAt: null,
  startsAtTz: null,
  endsAt: null,
  endsAtTz: null,
  lastEndsAt: null,
  recurrencePattern: [],
};

export const invalidEvent = (message: string) => new OpenTalkError(422, "invalid_event", message);

/** Checks one occurrence's times: order, and midnight (UTC) for all-day events. */
export function checkTimes(isAllDay: boolean, startsAt: number, endsAt: number): void {
  if (endsAt < startsAt) throw invalidEvent("ends_at must not be before starts_at");
  if (isAllDay && (startsAt % DAY !== 0 || endsAt % DAY !== 0)) {
    throw invalidEvent("is_all_day requires starts_at/ends_at to be set at the start of the day");
  }
}

/**
 * The zone recurrences expand in: the start's zone; all-day events (whose times are UTC
 * midnights by the reference's rule) expand in UTC so every instance stays a whole day.
 */
export function expansionZone(isAllDay: boolean, startsAtTz: string): string {
  return isAllDay ? "UTC" : startsAtTz;
}

/** Validates a time-dependent event's times and pattern, and computes the stored end of the last occurrence. */
export function timeDependent(isAllDay: boolean, starts: DateTimeTZInput, ends: DateTimeTZInput, pattern: string[]): EventTimes {
  checkTimes(isAllDay, starts.datetime, ends.datetime);
  const lines = checkPatternLines(pattern);
  let lastEndsAt = ends.datetime;
  if (lines.length > 0) {
    const zone = expansionZone(isAllDay, starts.timezone);
    const rec = buildRecurrence(lines, starts.datetime, zone);
    const last = lastOccurrence(rec) ?? rec.horizon;
    lastEndsAt = fromFloating(last, zone) + (ends.datetime - starts.datetime);
  }
  return {
    isTimeIndependent: false,
    isAllDay,
    startsAt: starts.datetime,
    startsAtTz: starts.timezone,
    endsAt: ends.datetime,
    endsAtTz: ends.timezone,
    lastEndsAt,
    recurrencePattern: lines,
  };
}

/** The rule set of a stored recurring event, or null for single and time-independent events. */
export function eventRecurrence(ev: EventRow): Recurrence | null {
  if (ev.isTimeIndependent || ev.startsAt === null || !ev.startsAtTz || ev.recurrencePattern.length === 0) return null;
  return buildRecurrence(ev.recurrencePattern, ev.startsAt, expansionZone(ev.isAllDay === true, ev.startsAtTz));
}

/** Duration of one occurrence in milliseconds. */
export function eventDuration(ev: EventRow): number {
  return ev.endsAt !== null && ev.startsAt !== null ? ev.endsAt - ev.startsAt : 0;
}
