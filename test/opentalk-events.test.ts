/** /v1/events through the Worker: CRUD, list filters and cursor pages, favorites, access, bad input. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../src/room/directory";
import { createEvent, expectError, expectValidation, signIn, signInAdmin, timedEvent, v1 } from "./helpers/opentalk";

const count = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0;

describe("events: create and get", () => {
  it("creates a time-dependent event with its room (password, waiting room, streaming target)", async () => {
    const owner = await signIn("ev");
    const ev = await createEvent(
      owner,
      timedEvent("2025-04-01T08:00:00Z", 90, "Europe/Berlin", {
        password: "s3cret",
        waiting_room: true,
        streaming_targets: [{ name: "Live", kind: "custom", streaming_endpoint: "rtmp://live.example.com/app", streaming_key: "key", public_url: "https://example.com/live" }],
      }),
    );
    expect(ev).toMatchObject({
      title: "Planning",
      description: "Weekly planning",
      created_by: { id: owner.id },
      updated_by: { id: owner.id },
      room: { password: "s3cret", waiting_room: true },
      is_time_independent: false,
      is_all_day: false,
      starts_at: { datetime: "2025-04-01T08:00:00Z", timezone: "Europe/Berlin" },
      ends_at: { datetime: "2025-04-01T09:30:00Z", timezone: "Europe/Berlin" },
      is_adhoc: false,
      type: "single",
      status: "ok",
      invite_status: "accepted",
      is_favorite: false,
      can_edit: true,
      invitees: [],
    });
    expect(ev.recurrence_pattern).toBeUndefined();
    expect(ev.streaming_targets).toEqual([expect.objectContaining({ name: "Live", streaming_key: "key" })]);
    const snap = await roomStub(env, ev.room.id).snapshot();
    expect(snap?.meta).toMatchObject({ name: "Planning", lobbyState: 1, type: 2, createdBy: owner.id });
    expect(snap?.attendees).toEqual([expect.objectContaining({ actorId: owner.login, participantType: 1 })]);
    const got = await v1("GET", `/v1/events/${ev.id}`, { token: owner.token });
    expect(got.body).toEqual(ev);
  });

  it("creates time-independent and all-day events", async () => {
    const owner = await signIn("ev");
    const ti = await createEvent(owner, { title: "Anytime", description: "", is_time_independent: true, is_adhoc: true });
    expect(ti).toMatchObject({ is_time_independent: true, is_adhoc: true, type: "single" });
    expect(ti.starts_at).toBeUndefined();
    const allDay = await createEvent(owner, { ...timedEvent("2025-04-01T00:00:00Z", 24 * 60, "Europe/Berlin"), is_all_day: true });
    expect(allDay.is_all_day).toBe(true);
  });

  it("refuses bad input with the reference's errors and creates nothing", async () => {
    const owner = await signIn("ev");
    const before = [await count("events"), await count("rooms")];
    const post = (json: unknown) => v1("POST", "/v1/events", { token: owner.token, json });
    expectValidation(await post({ ...timedEvent("2025-04-01T08:00:00Z"), title: "x".repeat(256) }), "title", "invalid_length");
    expectValidation(await post({ ...timedEvent("2025-04-01T08:00:00Z"), description: "x".repeat(4097) }), "description", "invalid_length");
    expectValidation(await post({ ...timedEvent("2025-04-01T08:00:00Z"), password: "" }), "password", "invalid_length");
    expectError(await post({ ...timedEvent("2025-04-01T08:00:00Z"), starts_at: { datetime: "2025-04-01T08:00:00Z", timezone: "Mars/Olympus" } }), 400, "invalid_json");
    expectError(await post({ ...timedEvent("2025-04-01T08:00:00Z"), starts_at: { datetime: "yesterday", timezone: "UTC" } }), 400, "invalid_json");
    expectError(await post({ title: "t", description: "" }), 400, "invalid_json");
    const ti = await post({ ...timedEvent("2025-04-01T08:00:00Z"), is_time_independent: true });
    expectError(ti, 400, "bad_request");
    expect(ti.body.message).toBe("time independent events must not have is_all_day, starts_at, ends_at or recurrence_pattern set");
    expectError(await post({ title: "t", description: "", is_time_independent: false, is_all_day: false }), 400, "bad_request");
    const backwards = await post(timedEvent("2025-04-01T08:00:00Z", -30));
    expectError(backwards, 422, "invalid_event");
    expect(backwards.body.message).toBe("ends_at must not be before starts_at");
    expectError(await post({ ...timedEvent("2025-04-01T08:00:00Z"), is_all_day: true }), 422, "invalid_event");
    expectValidation(
      await post({ ...timedEvent("2025-04-01T08:00:00Z"), streaming_targets: [{ name: "x", kind: "custom", streaming_endpoint: "nope", streaming_key: "k", public_url: "https://e.com" }] }),
      "streaming_targets.0.streaming_endpoint",
      "invalid_url",
    );
    const folder = await post({ ...timedEvent("2025-04-01T08:00:00Z"), has_shared_folder: true });
    expectError(folder, 400, "bad_request");
    expect(folder.body.message).toBe("No shared folder configured for this server");
    expectError(await v1("POST", "/v1/events", { token: owner.token, body: JSON.stringify(timedEvent("2025-04-01T08:00:00Z")) }), 400, "invalid_content_type");
    expect((await v1("POST", "/v1/events", { json: timedEvent("2025-04-01T08:00:00Z") })).status).toBe(401);
    expect([await count("events"), await count("rooms")]).toEqual(before);
  });

  it("strangers and administrators see nothing (404); unknown ids are 404", async () => {
    const owner = await signIn("ev");
    const stranger = await signIn("ev");
    const admin = await signInAdmin();
    const ev = await createEvent(owner, timedEvent("2025-04-01T08:00:00Z"));
    for (const who of [stranger, admin]) {
      expectError(await v1("GET", `/v1/events/${ev.id}`, { token: who.token }), 404, "not_found");
      expectError(await v1("PATCH", `/v1/events/${ev.id}`, { token: who.token, json: { title: "mine" } }), 404, "not_found");
      expectError(await v1("DELETE", `/v1/events/${ev.id}`, { token: who.token }), 404, "not_found");
      expectError(await v1("PUT", `/v1/users/me/event_favorites/${ev.id}`, { token: who.token }), 404, "not_found");
      expect((await v1("GET", "/v1/events", { token: who.token })).body.map((e: any) => e.id)).not.toContain(ev.id);
    }
    expectError(await v1("GET", `/v1/events/${crypto.randomUUID()}`, { token: owner.token }), 404, "not_found");
    expectError(await v1("GET", "/v1/events/not-a-uuid", { token: owner.token }), 404, "not_found");
    expect((await v1("GET", `/v1/events/${ev.id}`)).status).toBe(401);
    expect((await v1("GET", `/v1/events/${ev.id}`, { token: owner.token })).body.title).toBe("Planning");
  });
});

describe("events: list", () => {
  it("orders by start (time-independent first), filters, and pages by cursor without gaps", async () => {
    const owner = await signIn("ev");
    const made: string[] = [];
    made.push((await createEvent(owner, { title: "ti", description: "", is_time_independent: true })).id);
    for (let d = 1; d <= 5; d++) made.push((await createEvent(owner, timedEvent(`2025-07-0${d}T08:00:00Z`, 60, "UTC", { is_adhoc: d === 3 }))).id);
    const seen: string[] = [];
    let path = "/v1/events?per_page=2";
    for (;;) {
      const res = await v1("GET", path, { token: owner.token });
      expect(res.status).toBe(200);
      if (res.body.length === 0) break;
      seen.push(...res.body.map((e: any) => e.id));
      const m = /^<([^>]+)>; rel="after"$/.exec(res.headers.get("link") ?? "");
      expect(m).not.toBeNull();
      const url = new URL((m as RegExpExecArray)[1] as string);
      path = `${url.pathname}${url.search}`;
    }
    expect(seen).toEqual(made);
    const window = await v1("GET", "/v1/events?time_min=2025-07-02T00:00:00Z&time_max=2025-07-03T23:00:00Z", { token: owner.token });
    expect(window.body.map((e: any) => e.id)).toEqual(made.slice(2, 4));
    expect((await v1("GET", "/v1/events?adhoc=true", { token: owner.token })).body.map((e: any) => e.id)).toEqual([made[3]]);
    expect((await v1("GET", "/v1/events?time_independent=true", { token: owner.token })).body.map((e: any) => e.id)).toEqual([made[0]]);
    expect((await v1("PUT", `/v1/users/me/event_favorites/${made[5]}`, { token: owner.token })).status).toBe(201);
    expect((await v1("PUT", `/v1/users/me/event_favorites/${made[5]}`, { token: owner.token })).status).toBe(204);
    expect((await v1("GET", "/v1/events?favorites=true", { token: owner.token })).body.map((e: any) => ({ id: e.id, fav: e.is_favorite }))).toEqual([{ id: made[5], fav: true }]);
    expect((await v1("DELETE", `/v1/users/me/event_favorites/${made[5]}`, { token: owner.token })).status).toBe(204);
    expectError(await v1("DELETE", `/v1/users/me/event_favorites/${made[5]}`, { token: owner.token }), 404, "not_found");
    expect((await v1("GET", "/v1/events?after=garbage", { token: owner.token })).status).toBe(400);
    expect((await v1("GET", "/v1/events?time_min=soon", { token: owner.token })).status).toBe(400);
    expect((await v1("GET", "/v1/events?adhoc=maybe", { token: owner.token })).status).toBe(400);
  });
});

describe("events: patch and delete", () => {
  it("patches fields, the room (title, password, waiting room) and mails invitees unless suppressed", async () => {
    const owner = await signIn("ev");
    const guest = await signIn("ev");
    const ev = await createEvent(owner, timedEvent("2025-04-01T08:00:00Z"));
    await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: guest.id } });
    const res = await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { title: "Renamed", password: "pw", waiting_room: true } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: "Renamed", room: { password: "pw", waiting_room: true } });
    expect((await roomStub(env, ev.room.id).snapshot())?.meta).toMatchObject({ name: "Renamed", lobbyState: 1 });
    const cleared = await v1("PATCH", `/v1/events/${ev.id}?suppress_email_notification=true`, { token: owner.token, json: { password: null } });
    expect(cleared.body.room.password).toBeUndefined();
    const mails = await env.DB.prepare("SELECT template FROM email_outbox WHERE recipient = ?").bind(guest.email).all<{ template: string }>();
    expect(mails.results.map((m) => m.template)).toEqual(["event_update"]);
    // The seed's body is "non-empty": a patch that sets nothing is the reference's struct-level error.
    expectValidation(await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: {} }), undefined, "missing_values");
    expectValidation(await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { unknown: 1 } }), undefined, "missing_values");
    // The invitee may read but not write.
    expectError(await v1("PATCH", `/v1/events/${ev.id}`, { token: guest.token, json: { title: "mine" } }), 403, "forbidden");
    expectError(await v1("DELETE", `/v1/events/${ev.id}`, { token: guest.token }), 403, "forbidden");
  });

  it("switches between time-independent and time-dependent by the reference's rules", async () => {
    const owner = await signIn("ev");
    const ev = await createEvent(owner, timedEvent("2025-04-01T08:00:00Z"));
    expectValidation(
      await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { is_time_independent: true, starts_at: { datetime: "2025-04-01T08:00:00Z", timezone: "UTC" } } }),
      "starts_at",
      "ignored_value",
    );
    const ti = await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { is_time_independent: true } });
    expect(ti.body.is_time_independent).toBe(true);
    expect(ti.body.starts_at).toBeUndefined();
    expectValidation(await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { is_time_independent: false } }), "starts_at", "value_required");
    const back = await v1("PATCH", `/v1/events/${ev.id}`, {
      token: owner.token,
      json: { ...timedEvent("2025-05-01T08:00:00Z", 30, "UTC"), title: undefined, description: undefined },
    });
    expect(back.body).toMatchObject({ is_time_independent: false, starts_at: { datetime: "2025-05-01T08:00:00Z" } });
    expectError(await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { ends_at: { datetime: "2025-04-01T00:00:00Z", timezone: "UTC" } } }), 422, "invalid_event");
    expect((await v1("GET", `/v1/events/${ev.id}`, { token: owner.token })).body.ends_at.datetime).toBe("2025-05-01T08:30:00Z");
  });

  it("deletes the event and its room, mails the invitees", async () => {
    const owner = await signIn("ev");
    const guest = await signIn("ev");
    const ev = await createEvent(owner, timedEvent("2025-04-01T08:00:00Z"));
    await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: guest.id } });
    expect((await v1("DELETE", `/v1/events/${ev.id}`, { token: owner.token })).status).toBe(204);
    expectError(await v1("GET", `/v1/events/${ev.id}`, { token: owner.token }), 404, "not_found");
    expect(await roomStub(env, ev.room.id).snapshot()).toBeNull();
    const mails = await env.DB.prepare("SELECT template FROM email_outbox WHERE recipient = ?").bind(guest.email).all<{ template: string }>();
    expect(mails.results.map((m) => m.template)).toEqual(["event_cancellation"]);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM event_invites WHERE event_id = ?").bind(ev.id).first<{ n: number }>())?.n).toBe(0);
  });
});
