/**
 * IANA time-zone arithmetic on top of Intl. "Floating" times are wall-clock times encoded as if
 * they were UTC (the representation rrule works in): `Date.UTC(y, m, d, h, mi, s)` of the local
 * calendar fields.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether `name` is a time zone Intl knows (IANA names and `UTC`). */
export function isTimeZone(name: string): boolean {
  if (!name || name.length > 64) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time of an instant in a zone, as a floating time. */
export function toFloating(instantMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const ms = ((instantMs % 1000) + 1000) % 1000;
  return Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second, ms);
}

/** UTC offset of a zone at an instant, in milliseconds. */
function offsetAt(instantMs: number, timeZone: string): number {
  return toFloating(instantMs, timeZone) - instantMs;
}

const HALF_DAY = 12 * 3600 * 1000;

/**
 * The instant of a wall-clock time in a zone. Ambiguous times (the repeated hour when clocks go
 * back) resolve to the first occurrence; times in a gap (clocks go forward) use the offset before
 * the gap, i.e. they move forward by the gap's length (both as RFC 5545 §3.3.5 prescribes).
 */
export function fromFloating(floatingMs: number, timeZone: string): number {
  const before = offsetAt(floatingMs - HALF_DAY, timeZone);
  const after = offsetAt(floatingMs + HALF_DAY, timeZone);
  const candidates = [floatingMs - before, floatingMs - after].filter((t) => toFloating(t, timeZone) === floatingMs).sort((a, b) => a - b);
  return candidates[0] ?? floatingMs - before;
}

/** RFC 3339 in UTC, without fractional seconds when they are zero (as the reference prints). */
export function rfc3339(instantMs: number): string {
  const iso = new Date(instantMs).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

/** `YYYYMMDDTHHMMSSZ` (the reference's instance id). */
export function basicUtc(instantMs: number): string {
  return new Date(instantMs).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * Parses an instance id: `YYYYMMDDTHHMMSSZ`, or `YYYYMMDDTHHMMSS±HHMM` (also accepted on input
 * by the reference). Returns the instant or null.
 */
export function parseInstanceId(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z|([+-])(\d{2})(\d{2}))$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, zone, sign, oh, om] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(local) || basicUtc(local).slice(0, 15) !== `${y}${mo}${d}T${h}${mi}${s}`) return null;
  if (zone === "Z") return local;
  const offset = (Number(oh) * 60 + Number(om)) * 60_000 * (sign === "-" ? -1 : 1);
  return local - offset;
}
