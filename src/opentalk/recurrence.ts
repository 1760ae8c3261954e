/**
 * Event recurrence (reference §3.4/§3.5): RFC 5545 RRULE/RDATE/EXRULE/EXDATE lines expanded from
 * the event's start in the event's time zone. The expansion is rrule's (RRuleSet); this module only
 * parses the lines' date values and moves between instants and the zone's wall-clock time, so a
 * weekly 10:00 meeting stays at 10:00 local time across daylight-saving changes.
 *
 * rrule runs on floating times (see timezone.ts): DTSTART is the local start, every generated date
 * is a local wall-clock time, converted back to an instant with the zone's offset of that day.
 */
import { Frequency, RRule, RRuleSet } from "rrule";
import { OpenTalkError } from "../lib/errors";
import { fromFloating, isTimeZone, toFloating } from "./timezone";

export const MAX_PATTERN_LINES = 4;
export const MAX_PATTERN_LINE_LENGTH = 1024;
/** Unbounded rules are expanded (and stored as ending) at most this far after the start. */
export const HORIZON_YEARS = 100;
/** Bounded rule sets with more occurrences than this are treated as unbounded for the stored end. */
const MAX_COUNTED_OCCURRENCES = 10_000;
const DAY = 86_400_000;

export interface Recurrence {
  set: RRuleSet;
  timeZone: string;
  /** The first occurrence's local start (floating). */
  startFloating: number;
  /** Every RRULE has COUNT or UNTIL (RDATEs are finite anyway). */
  bounded: boolean;
  /** Floating end of the expansion window (start + HORIZON_YEARS). */
  horizon: number;
}

const invalidPattern = () => new OpenTalkError(422, "invalid_event", "Invalid recurrence pattern");

function notAllowed(message: string): OpenTalkError {
  return OpenTalkError.validation([{ field: "recurrence_pattern", code: "invalid_value", message }]);
}

interface Line {
  name: string;
  params: Record<string, string>;
  value: string;
}

/** `NAME;PARAM=x:VALUE`; a bare `FREQ=…` is an RRULE value (the [spec-30] examples omit the prefix). */
function splitLine(raw: string): Line {
  const line = raw.trim();
  const m = /^([A-Za-z-]+)((?:;[^:;]+=[^:;]*)*):(.*)$/s.exec(line);
  if (!m) {
    if (/^FREQ=/i.test(line)) return { name: "RRULE", params: {}, value: line };
    throw invalidPattern();
  }
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? "").split(";").filter(Boolean)) {
    const [k, v] = p.split("=");
    params[(k as string).toUpperCase()] = v ?? "";
  }
  return { name: (m[1] as string).toUpperCase(), params, value: (m[3] as string).trim() };
}

/** Checks the lines' names and lengths; returns them normalised (the stored form). */
export function checkPatternLines(lines: string[]): string[] {
  return lines.map((raw) => {
    const line = splitLine(raw);
    if (line.name === "DTSTART" || line.name === "DTEND") {
      throw notAllowed("DTSTART and DTEND are not allowed; they are taken from starts_at and ends_at");
    }
    if (!["RRULE", "EXRULE", "RDATE", "EXDATE"].includes(line.name)) {
      throw notAllowed(`${line.name} is not allowed; allowed are RRULE, RDATE, EXRULE and EXDATE`);
    }
    return raw.trim();
  });
}

function ruleFrom(line: Line, startFloating: number, timeZone: string): RRule {
  if (Object.keys(line.params).length > 0 || /(^|;)\s*(DTSTART|TZID)\s*=/i.test(line.value)) throw invalidPattern();
  let options: ReturnType<typeof RRule.parseString>;
  try {
    options = RRule.parseString(`RRULE:${line.value}`);
  } catch {
    throw invalidPattern();
  }
  if (options.freq === undefined || options.freq === null || !(options.freq in Frequency)) throw invalidPattern();
  if (options.freq > Frequency.DAILY) {
    throw new OpenTalkError(422, "invalid_event", "Frequencies below 'DAILY' are not supported");
  }
  for (const key of ["count", "interval"] as const) {
    const n = options[key];
    if (n !== undefined && n !== null && !(Number.isInteger(n) && n > 0)) throw invalidPattern();
  }
  const until = /(?:^|;)UNTIL=([0-9TZ]+)/i.exec(line.value)?.[1];
  if (until !== undefined) options.until = untilFloating(until, timeZone);
  try {
    return new RRule({ ...options, dtstart: new Date(startFloating), tzid: null }, true);
  } catch {
    throw invalidPattern();
  }
}

/** UNTIL in UTC (`…Z`) becomes the zone's wall-clock time; a date-only UNTIL includes that day. */
function untilFloating(value: string, timeZone: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/i.exec(value);
  if (!m) throw invalidPattern();
  const [, y, mo, d, h, mi, s, z] = m;
  if (h === undefined) return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)) + DAY - 1000);
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return new Date(z ? toFloating(wall, timeZone) : wall);
}

/** RDATE/EXDATE values: dates, UTC times, floating times, or times in a TZID zone. */
function datesFrom(line: Line, startFloating: number, timeZone: string): Date[] {
  const tzid = line.params.TZID;
  if (tzid !== undefined && !isTimeZone(tzid)) throw invalidPattern();
  if (line.params.VALUE && !["DATE", "DATE-TIME"].includes(line.params.VALUE.toUpperCase())) throw invalidPattern();
  const timeOfDay = ((startFloating % DAY) + DAY) % DAY;
  return line.value.split(",").map((v) => {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/i.exec(v.trim());
    if (!m) throw invalidPattern();
    const [, y, mo, d, h, mi, s, z] = m;
    const date = Date.UTC(Number(y), Number(mo) - 1, Number(d));
    if (Number.isNaN(date)) throw invalidPattern();
    // A date-only value names the occurrence on that day (at the event's local start time).
    if (h === undefined) return new Date(date + timeOfDay);
    const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    if (z) return new Date(toFloating(wall, timeZone));
    if (tzid && tzid !== timeZone) return new Date(toFloating(fromFloating(wall, tzid), timeZone));
    return new Date(wall);
  });
}

/** Builds the rule set of a (checked) pattern. Throws 422 `invalid_event` when it cannot be used. */
export function buildRecurrence(pattern: string[], startMs: number, timeZone: string): Recurrence {
  const startFloating = toFloating(startMs, timeZone);
  const set = new RRuleSet(true);
  let bounded = true;
  let hasRule = false;
  for (const raw of pattern) {
    const line = splitLine(raw);
    switch (line.name) {
      case "RRULE": {
        const rule = ruleFrom(line, startFloating, timeZone);
        if (!rule.options.count && !rule.options.until) bounded = false;
        hasRule = true;
        set.rrule(rule);
        break;
      }
      case "EXRULE":
        set.exrule(ruleFrom(line, startFloating, timeZone));
        break;
      case "RDATE":
        for (const d of datesFrom(line, startFloating, timeZone)) set.rdate(d);
        break;
      case "EXDATE":
        for (const d of datesFrom(line, startFloating, timeZone)) set.exdate(d);
        break;
      default:
        throw invalidPattern();
    }
  }
  // Without an RRULE the start itself is the first occurrence (RFC 5545: DTSTART is an instance).
  if (!hasRule) set.rdate(new Date(startFloating));
  const horizon = addYears(startFloating, HORIZON_YEARS);
  const rec: Recurrence = { set, timeZone, startFloating, bounded, horizon };
  if (occurrences(rec, null, null, 1).length === 0) {
    throw new OpenTalkError(422, "invalid_event", "recurrence_pattern does not yield any dates");
  }
  return rec;
}

function addYears(floating: number, years: number): number {
  const d = new Date(floating);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime();
}

/**
 * Occurrence starts (floating), ascending: strictly after `after`, at or before `before` (both
 * floating, null = unbounded; never past the horizon), at most `limit`.
 */
export function occurrences(rec: Recurrence, after: number | null, before: number | null, limit: number): number[] {
  if (limit <= 0) return [];
  const from = new Date(after ?? rec.startFloating - 1);
  const to = new Date(Math.min(before ?? rec.horizon, rec.horizon));
  if (to < from) return [];
  // between() with inc=false: after `from`, before `to + 1 ms`, i.e. (from, to].
  return rec.set.between(from, new Date(to.getTime() + 1), false, (_d, len) => len < limit).map((d) => d.getTime());
}

/** The last occurrence's local start, or null when the set is unbounded (or too long to count). */
export function lastOccurrence(rec: Recurrence): number | null {
  if (!rec.bounded) return null;
  const all = occurrences(rec, null, null, MAX_COUNTED_OCCURRENCES + 1);
  if (all.length > MAX_COUNTED_OCCURRENCES) return null;
  return all[all.length - 1] ?? null;
}

/** Whether `floating` is an occurrence of the set. */
export function isOccurrence(rec: Recurrence, floating: number): boolean {
  return occurrences(rec, floating - 1, floating, 1)[0] === floating;
}

export { fromFloating, toFloating };
