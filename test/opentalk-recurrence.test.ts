/**
 * Recurring events through the Worker: expansion in the event's time zone (daylight saving),
 * EXDATE, COUNT/UNTIL, cancelled and changed instances, cursor pages, and bad patterns.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createEvent, expectError, expectValidation, signIn, timedEvent, v1 } from "./helpers/opentalk";

const starts = (list: any[]) => list.map((i) => i.starts_at.datetime);

async function instances(token: string, eventId: string, query = "") {
  const res = await v1("GET", `/v1/events/${eventId}/instances${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res;
}

/** Follows the rel="after" links until an empty page. */
async function allPages(token: string, eventId: string, query: string) {
  const pages: any[][] = [];
  let path = `/v1/events/${eventId}/instances${query}`;
  for (;;) {
    const res = await v1("GET", path, { token });
    expect(res.status).toBe(200);
    if (res.body.length === 0) {
      expect(res.headers.get("link")).toBeNull();
      return pages;
    }
    pages.push(res.body);
    const link = res.headers.get("link") as string;
    const m = /^<([^>]+)>; rel="after"$/.exec(link);
    expect(m, link).not.toBeNull();
    const url = new URL((m as RegExpExecArray)[1] as string);
    path = `${url.pathname}${url.search}`;
    expect(pages.length).toBeLessThan(20);
  }
}

describe("instances: time zones and daylight saving", () => {
  it("keeps a weekly Europe/Berlin meeting at 10:00 local time across the spring change", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=4"] }));
    const res = await instances(owner.token, ev.id);
    expect(starts(res.body)).toEqual(["2025-03-17T09:00:00Z", "2025-03-24T09:00:00Z", "2025-03-31T08:00:00Z", "2025-04-07T08:00:00Z"]);
    expect(res.body.map((i: any) => i.ends_at.datetime)).toEqual(["2025-03-17T10:00:00Z", "2025-03-24T10:00:00Z", "2025-03-31T09:00:00Z", "2025-04-07T09:00:00Z"]);
    expect(res.body[2]).toMatchObject({
      id: `${ev.id}_20250331T080000Z`,
      recurring_event_id: ev.id,
      instance_id: "20250331T080000Z",
      type: "instance",
      status: "ok",
      title: "Planning",
      starts_at: { timezone: "Europe/Berlin" },
      invite_status: "accepted",
      can_edit: true,
      room: { id: ev.room.id },
    });
  });

  it("and across the autumn change, with the prefix-less rule form", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-10-20T08:00:00Z", 30, "Europe/Berlin", { recurrence_pattern: ["FREQ=WEEKLY;COUNT=2"] }));
    expect(starts((await instances(owner.token, ev.id)).body)).toEqual(["2025-10-20T08:00:00Z", "2025-10-27T09:00:00Z"]);
  });

  it("a zone without daylight saving keeps the UTC time", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-03-24T09:00:00Z", 60, "UTC", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=2"] }));
    expect(starts((await instances(owner.token, ev.id)).body)).toEqual(["2025-03-24T09:00:00Z", "2025-03-31T09:00:00Z"]);
  });

  it("all-day events stay whole days (midnight UTC) across the change", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, {
      ...timedEvent("2025-03-28T00:00:00Z", 24 * 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=DAILY;COUNT=3"] }),
      is_all_day: true,
    });
    const res = await instances(owner.token, ev.id);
    expect(starts(res.body)).toEqual(["2025-03-28T00:00:00Z", "2025-03-29T00:00:00Z", "2025-03-30T00:00:00Z"]);
    expect(res.body.every((i: any) => i.is_all_day === true)).toBe(true);
  });
});

describe("instances: EXDATE, COUNT, UNTIL, RDATE", () => {
  it("EXDATE removes occurrences (zone-local and UTC forms); COUNT counts before exclusion", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(
      owner,
      timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", {
        recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE;TZID=Europe/Berlin:20250324T100000", "EXDATE:20250407T080000Z"],
      }),
    );
    expect(starts((await instances(owner.token, ev.id)).body)).toEqual(["2025-03-17T09:00:00Z", "2025-03-31T08:00:00Z", "2025-04-14T08:00:00Z"]);
    // An excluded date is not an instance.
    expectError(await v1("GET", `/v1/events/${ev.id}/instances/20250324T090000Z`, { token: owner.token }), 404, "not_found");
  });

  it("UNTIL (UTC) is inclusive and converted to the event's zone", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;UNTIL=20250407T080000Z"] }));
    expect(starts((await instances(owner.token, ev.id)).body)).toEqual(["2025-03-17T09:00:00Z", "2025-03-24T09:00:00Z", "2025-03-31T08:00:00Z", "2025-04-07T08:00:00Z"]);
    // A bounded rule: the event is found by a window around its last occurrence only.
    const list = await v1("GET", `/v1/events?time_min=2025-04-07T00:00:00Z&time_max=2025-04-08T00:00:00Z`, { token: owner.token });
    expect(list.body.map((e: any) => e.id)).toContain(ev.id);
    const later = await v1("GET", `/v1/events?time_min=2025-04-08T00:00:00Z&time_max=2025-05-01T00:00:00Z`, { token: owner.token });
    expect(later.body.map((e: any) => e.id)).not.toContain(ev.id);
  });

  it("RDATE adds an occurrence; time_min/time_max narrow the list", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(
      owner,
      timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=3", "RDATE;TZID=Europe/Berlin:20250320T150000"] }),
    );
    expect(starts((await instances(owner.token, ev.id)).body)).toEqual(["2025-03-17T09:00:00Z", "2025-03-20T14:00:00Z", "2025-03-24T09:00:00Z", "2025-03-31T08:00:00Z"]);
    const window = await instances(owner.token, ev.id, "?time_min=2025-03-18T00:00:00Z&time_max=2025-03-24T09:00:00Z");
    expect(starts(window.body)).toEqual(["2025-03-20T14:00:00Z", "2025-03-24T09:00:00Z"]);
  });

  it("a single event has exactly one instance (D13)", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-05-05T12:00:00Z"));
    const res = await instances(owner.token, ev.id);
    expect(res.body).toHaveLength(1);
    expect(res.body[0]).toMatchObject({ instance_id: "20250505T120000Z", starts_at: { datetime: "2025-05-05T12:00:00Z" } });
    expect((await v1("GET", `/v1/events/${ev.id}/instances/20250505T120000Z`, { token: owner.token })).status).toBe(200);
  });
});

describe("instances: exceptions", () => {
  it("cancels one instance: the listing, the single instance and GET /events reflect it", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=3"] }));
    const patched = await v1("PATCH", `/v1/events/${ev.id}/instances/20250324T090000Z`, { token: owner.token, json: { status: "cancelled" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ instance_id: "20250324T090000Z", status: "cancelled", starts_at: { datetime: "2025-03-24T09:00:00Z" } });
    const list = await instances(owner.token, ev.id);
    expect(list.body.map((i: any) => i.status)).toEqual(["ok", "cancelled", "ok"]);
    // The +HHMM form of the id names the same instance.
    const one = await v1("GET", `/v1/events/${ev.id}/instances/20250324T100000+0100`, { token: owner.token });
    expect(one.body).toMatchObject({ id: `${ev.id}_20250324T090000Z`, status: "cancelled" });
    const events = await v1("GET", "/v1/events?time_min=2025-03-01T00:00:00Z&time_max=2025-04-30T00:00:00Z", { token: owner.token });
    const at = events.body.findIndex((e: any) => e.id === ev.id);
    expect(events.body[at + 1]).toMatchObject({
      id: `${ev.id}_20250324T090000Z`,
      recurring_event_id: ev.id,
      instance_id: "20250324T090000Z",
      type: "exception",
      status: "cancelled",
      original_starts_at: { datetime: "2025-03-24T09:00:00Z", timezone: "Europe/Berlin" },
    });
  });

  it("changes one instance's fields; the pattern change drops the exceptions", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=3"] }));
    const moved = await v1("PATCH", `/v1/events/${ev.id}/instances/20250331T080000Z`, {
      token: owner.token,
      json: { title: "Moved", starts_at: { datetime: "2025-04-01T08:00:00Z", timezone: "Europe/Berlin" }, ends_at: { datetime: "2025-04-01T09:30:00Z", timezone: "Europe/Berlin" } },
    });
    expect(moved.status).toBe(200);
    let list = (await instances(owner.token, ev.id)).body;
    expect(list[2]).toMatchObject({ instance_id: "20250331T080000Z", title: "Moved", starts_at: { datetime: "2025-04-01T08:00:00Z" }, ends_at: { datetime: "2025-04-01T09:30:00Z" } });
    expect(list[1].title).toBe("Planning");
    // A patch that keeps the occurrences keeps the exception…
    expect((await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { description: "new" } })).status).toBe(200);
    expect((await instances(owner.token, ev.id)).body[2].title).toBe("Moved");
    // …changing the pattern removes it.
    expect((await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=4"] } })).status).toBe(200);
    list = (await instances(owner.token, ev.id)).body;
    expect(list).toHaveLength(4);
    expect(list.every((i: any) => i.title === "Planning" && i.status === "ok")).toBe(true);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM event_exceptions WHERE event_id = ?").bind(ev.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("refuses bad instance patches and unknown instances without changing anything", async () => {
    const owner = await signIn("rec");
    const stranger = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=3"] }));
    const path = `/v1/events/${ev.id}/instances/20250324T090000Z`;
    expectError(await v1("PATCH", path, { token: owner.token, json: { status: "maybe" } }), 400, "invalid_json");
    expectError(
      await v1("PATCH", path, { token: owner.token, json: { ends_at: { datetime: "2025-03-24T08:00:00Z", timezone: "Europe/Berlin" } } }),
      422,
      "invalid_event",
    );
    expectValidation(await v1("PATCH", path, { token: owner.token, json: { title: "x".repeat(256) } }), "title", "invalid_length");
    expectError(await v1("PATCH", `/v1/events/${ev.id}/instances/20250325T090000Z`, { token: owner.token, json: { status: "cancelled" } }), 404, "not_found");
    expectError(await v1("PATCH", `/v1/events/${ev.id}/instances/garbage`, { token: owner.token, json: { status: "cancelled" } }), 404, "not_found");
    expectError(await v1("PATCH", path, { token: stranger.token, json: { status: "cancelled" } }), 404, "not_found");
    expectError(await v1("GET", path, { token: stranger.token }), 404, "not_found");
    expectError(await v1("GET", `/v1/events/${ev.id}/instances`, { token: stranger.token }), 404, "not_found");
    expectValidation(await v1("PATCH", path, { token: owner.token, json: {} }), undefined, "missing_values");
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM event_exceptions WHERE event_id = ?").bind(ev.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });
});

describe("instances: cursor pages", () => {
  it("pages through 250 daily instances without duplicates or gaps (per_page clamped to 100)", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-01-01T07:00:00Z", 30, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=DAILY;COUNT=250"] }));
    const pages = await allPages(owner.token, ev.id, "?per_page=500");
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    const ids = pages.flat().map((i) => i.instance_id);
    expect(new Set(ids).size).toBe(250);
    // Consecutive local days at 08:00 Berlin: 07:00Z in winter, 06:00Z in summer.
    const days = pages.flat().map((i) => {
      const local = new Date(Date.parse(i.starts_at.datetime) + (i.starts_at.datetime.endsWith("T07:00:00Z") ? 3600e3 : 7200e3));
      expect(local.getUTCHours()).toBe(8);
      return local.toISOString().slice(0, 10);
    });
    for (let k = 1; k < days.length; k++) expect(Date.parse(days[k] as string) - Date.parse(days[k - 1] as string)).toBe(86_400_000);
  });

  it("pages an unbounded rule inside a time window", async () => {
    const owner = await signIn("rec");
    const ev = await createEvent(owner, timedEvent("2025-01-06T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=DAILY"] }));
    const pages = await allPages(owner.token, ev.id, "?per_page=40&time_min=2025-02-01T00:00:00Z&time_max=2025-05-31T23:00:00Z");
    const all = pages.flat().map((i) => i.instance_id);
    expect(all).toHaveLength(120);
    expect(new Set(all).size).toBe(120);
    expect(all[0]).toBe("20250201T090000Z");
    expect(all[all.length - 1]).toBe("20250531T080000Z");
    expectError(await v1("GET", `/v1/events/${ev.id}/instances?after=%%%`, { token: owner.token }), 400, "bad_request");
  });
});

describe("recurrence patterns: bad input", () => {
  const bad = async (pattern: unknown[]) => {
    const owner = await signIn("rec");
    const before = await env.DB.prepare("SELECT count(*) AS n FROM events").first<{ n: number }>();
    const res = await v1("POST", "/v1/events", { token: owner.token, json: timedEvent("2025-03-17T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: pattern }) });
    const after = await env.DB.prepare("SELECT count(*) AS n FROM events").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
    return res;
  };

  it("rejects DTSTART and DTEND lines and unknown properties", async () => {
    expectValidation(await bad(["DTSTART:20250317T090000Z", "RRULE:FREQ=DAILY"]), "recurrence_pattern", "invalid_value");
    expectValidation(await bad(["DTEND;TZID=Europe/Berlin:20250317T100000"]), "recurrence_pattern", "invalid_value");
    expectValidation(await bad(["SUMMARY:hello"]), "recurrence_pattern", "invalid_value");
  });

  it("rejects unparseable rules, sub-daily frequencies and empty rule sets", async () => {
    expectError(await bad(["RRULE:FREQ=WEEKLY;BOGUS=1"]), 422, "invalid_event");
    expectError(await bad(["RRULE:FREQ=SOMETIMES"]), 422, "invalid_event");
    expectError(await bad(["RRULE:FREQ=WEEKLY;DTSTART=20250317T090000Z"]), 422, "invalid_event");
    expectError(await bad(["EXDATE:not-a-date"]), 422, "invalid_event");
    const hourly = await bad(["RRULE:FREQ=HOURLY;COUNT=3"]);
    expectError(hourly, 422, "invalid_event");
    expect(hourly.body.message).toBe("Frequencies below 'DAILY' are not supported");
    const empty = await bad(["RRULE:FREQ=WEEKLY;UNTIL=20250101T000000Z"]);
    expectError(empty, 422, "invalid_event");
    expect(empty.body.message).toBe("recurrence_pattern does not yield any dates");
  });

  it("rejects more than 4 lines and lines over 1024 characters", async () => {
    expectValidation(await bad(["RRULE:FREQ=DAILY", "EXDATE:20250318T090000Z", "EXDATE:20250319T090000Z", "EXDATE:20250320T090000Z", "EXDATE:20250321T090000Z"]), "recurrence_pattern", "invalid_length");
    expectValidation(await bad([`RRULE:FREQ=DAILY;COUNT=2${";".repeat(1020)}`]), "recurrence_pattern.0", "invalid_length");
    expectError(await bad(["RRULE:FREQ=DAILY", 5]), 400, "invalid_json");
  });
});
