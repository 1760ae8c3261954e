import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE } from "./helpers/http";
import { createEvent, createRoom, expectError, serviceToken, signIn, signInAdmin, type Signed, timedEvent, v1 } from "./helpers/opentalk";

/** Guards against a hang only; tests never assert on timing. */
const WAIT_LIMIT_MS = 15_000;
const STAMP = "2025-03-17T09:30:05Z";

const recorderToken = () => serviceToken("recorder", "recorder-secret");

function uploadUrl(roomId: string, query = `file_extension=webm&timestamp=${STAMP}`): string {
  return `${BASE}/v1/services/recording/upload?room_id=${roomId}&${query}`;
}

function upgrade(url: string, auth?: string): Promise<Response> {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (auth) headers.Authorization = auth;
  return exports.default.fetch(new Request(url, { headers }));
}

/** A message of the upload protocol: 4-byte big-endian sequence number, then the data. */
function frame(sequence: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.byteLength);
  new DataView(out.buffer).setInt32(0, sequence);
  out.set(data, 4);
  return out;
}

/** Streams `messages` as a recorder does and waits for the socket to close. */
async function stream(roomId: string, messages: (Uint8Array | string)[], query?: string): Promise<{ code: number; reason: string }> {
  const res = await upgrade(uploadUrl(roomId, query), `Bearer ${await recorderToken()}`);
  if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
  const ws = res.webSocket;
  ws.accept();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
  for (const m of messages) ws.send(m);
  ws.close(1000, "done");
  return closed;
}

async function roomAssets(owner: Signed, roomId: string): Promise<any[]> {
  const res = await v1("GET", `/v1/rooms/${roomId}/assets?per_page=100`, { token: owner.token });
  expect(res.status).toBe(200);
  return res.body;
}

/** The asset is stored after the socket closed: wait (bounded) until the room lists `n` assets. */
async function waitForAssets(owner: Signed, roomId: string, n: number): Promise<any[]> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const list = await roomAssets(owner, roomId);
    if (list.length >= n) return list;
    if (Date.now() > deadline) throw new Error(`room has ${list.length} assets, expected ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function upload(owner: Signed, roomId: string, chunks: Uint8Array[]): Promise<any> {
  const before = (await roomAssets(owner, roomId)).length;
  await stream(roomId, chunks.map((c, i) => frame(i, c)));
  const list = await waitForAssets(owner, roomId, before + 1);
  return list[list.length - 1];
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe("recording upload and room assets", () => {
  it("stores a streamed recording as an asset: listed, downloaded, listed for the owner", async () => {
    const owner = await signIn("as-owner");
    const room = await createRoom(owner);
    const asset = await upload(owner, room.id, [bytes("hello "), bytes("recording")]);
    expect(asset).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      filename: "recording_2025-03-17_09-30-05-UTC.webm",
      namespace: "recording",
      created_at: expect.any(String),
    });

    const file = await v1("GET", `/v1/rooms/${room.id}/assets/${asset.id}`, { token: owner.token });
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("application/octet-stream");
    expect(file.headers.get("content-length")).toBe("15");
    expect(file.headers.get("content-disposition")).toBe(`attachment; filename="${asset.filename}"; filename*=UTF-8''${asset.filename}`);
    expect(new TextDecoder().decode(file.body)).toBe("hello recording");

    const mine = await v1("GET", "/v1/users/me/assets", { token: owner.token });
    expect(mine.status).toBe(200);
    // A user's asset list (outside the seed) adds the kind and size to the seed's Asset.
    expect(mine.body).toEqual({ owned_assets: [{ ...asset, kind: "recording", size: 15, room_id: room.id }] });
  });

  it("names an event room's recordings after the event and links the event; pages and sorts", async () => {
    const owner = await signIn("as-owner");
    const ev = await createEvent(owner, { ...timedEvent("2030-01-01T10:00:00Z"), title: "A very (!!1~) Special Event!" });
    const first = await upload(owner, ev.room.id, [bytes("one")]);
    expect(first.filename).toBe("A very ___1__ Special Event__recording_2025-03-17_09-30-05-UTC.webm");
    await upload(owner, ev.room.id, [bytes("second, longer")]);

    const page1 = await v1("GET", `/v1/rooms/${ev.room.id}/assets?per_page=1`, { token: owner.token });
    expect(page1.body).toHaveLength(1);
    expect(page1.headers.get("link")).toContain('rel="next"');
    const bySize = await v1("GET", "/v1/users/me/assets?sort=size&order=descending", { token: owner.token });
    expect(bySize.body.owned_assets.map((a: { size: number }) => a.size)).toEqual([14, 3]);
    expect(bySize.body.owned_assets[0]).toMatchObject({ room_id: ev.room.id, event_id: ev.id });
    const paged = await v1("GET", "/v1/users/me/assets?per_page=1&page=2&sort=size", { token: owner.token });
    expect(paged.body.owned_assets.map((a: { size: number }) => a.size)).toEqual([14]);
    expect(paged.headers.get("link")).toContain('rel="prev"');
    expect((await v1("GET", "/v1/users/me/assets?sort=colour", { token: owner.token })).status).toBe(400);
  });

  it("stores a recording larger than one R2 part through a multipart upload", async () => {
    const owner = await signIn("as-owner");
    const room = await createRoom(owner);
    const chunk = (fill: number) => new Uint8Array(3 * 1024 * 1024).fill(fill);
    const asset = await upload(owner, room.id, [chunk(1), chunk(2), chunk(3), chunk(4)]);
    const file = await v1("GET", `/v1/rooms/${room.id}/assets/${asset.id}`, { token: owner.token });
    expect(file.body.byteLength).toBe(12 * 1024 * 1024);
    for (const [i, fill] of [1, 2, 3, 4].entries()) {
      expect(file.body[i * 3 * 1024 * 1024]).toBe(fill);
      expect(file.body[(i + 1) * 3 * 1024 * 1024 - 1]).toBe(fill);
    }
  });

  it("lets readers list and download, writers delete (row and object); strangers see nothing", async () => {
    const owner = await signIn("as-owner");
    const invitee = await signIn("as-invitee");
    const stranger = await signIn("as-stranger");
    const admin = await signInAdmin();
    const ev = await createEvent(owner, timedEvent("2030-02-01T10:00:00Z"));
    expect((await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: invitee.id } })).status).toBe(201);
    const roomId = ev.room.id;
    const a = await upload(owner, roomId, [bytes("first")]);
    const b = await upload(owner, roomId, [bytes("second")]);
    const path = (id: string) => `/v1/rooms/${roomId}/assets/${id}`;

    expect((await v1("GET", `/v1/rooms/${roomId}/assets`, { token: invitee.token })).body).toHaveLength(2);
    expect(new TextDecoder().decode((await v1("GET", path(a.id), { token: invitee.token })).body)).toBe("first");
    expectError(await v1("DELETE", path(a.id), { token: invitee.token }), 403, "forbidden");
    // Invitees do not own the room: its assets are not theirs.
    expect((await v1("GET", "/v1/users/me/assets", { token: invitee.token })).body).toEqual({ owned_assets: [] });

    expectError(await v1("GET", `/v1/rooms/${roomId}/assets`, { token: stranger.token }), 404, "not_found");
    expectError(await v1("GET", path(a.id), { token: stranger.token }), 404, "not_found");
    expectError(await v1("DELETE", path(a.id), { token: stranger.token }), 404, "not_found");
    expectError(await v1("GET", `/v1/rooms/${roomId}/assets`, {}), 401, "unauthorized");

    expect((await v1("DELETE", path(a.id), { token: owner.token })).status).toBe(204);
    expect(await env.ASSETS.get(`assets/${roomId}/${a.id}`)).toBeNull();
    expectError(await v1("GET", path(a.id), { token: owner.token }), 404, "not_found");
    expectError(await v1("DELETE", path(a.id), { token: owner.token }), 404, "not_found");

    expect((await v1("GET", path(b.id), { token: admin.token })).status).toBe(200);
    expect((await v1("DELETE", path(b.id), { token: admin.token })).status).toBe(204);
    expect(await roomAssets(owner, roomId)).toEqual([]);
  });

  it("deleting the room deletes its assets' objects", async () => {
    const owner = await signIn("as-owner");
    const room = await createRoom(owner);
    const asset = await upload(owner, room.id, [bytes("bye")]);
    expect(await env.ASSETS.head(`assets/${room.id}/${asset.id}`)).not.toBeNull();
    expect((await v1("DELETE", `/v1/rooms/${room.id}`, { token: owner.token })).status).toBe(204);
    expect(await env.ASSETS.head(`assets/${room.id}/${asset.id}`)).toBeNull();
    expect((await v1("GET", "/v1/users/me/assets", { token: owner.token })).body).toEqual({ owned_assets: [] });
  });

  it("refuses uploads without the recorder role, for unknown rooms and with bad parameters", async () => {
    const owner = await signIn("as-owner");
    const room = await createRoom(owner);
    expectError(await v1("GET", uploadUrl(room.id).slice(BASE.length), { headers: { Upgrade: "websocket" } }), 401, "unauthorized");
    expectError(await v1("GET", uploadUrl(room.id).slice(BASE.length), { token: await serviceToken(), headers: { Upgrade: "websocket" } }), 401, "unauthorized");
    expectError(await v1("GET", uploadUrl(room.id).slice(BASE.length), { token: owner.token, headers: { Upgrade: "websocket" } }), 401, "unauthorized");
    const recorder = `Bearer ${await recorderToken()}`;
    expectError(await v1("GET", uploadUrl(crypto.randomUUID()).slice(BASE.length), { auth: recorder, headers: { Upgrade: "websocket" } }), 404, "not_found");
    for (const query of ["file_extension=we.bm&timestamp=2025-03-17T09:30:05Z", "file_extension=webm&timestamp=yesterday", "file_extension=webm"]) {
      expect((await v1("GET", uploadUrl(room.id, query).slice(BASE.length), { auth: recorder, headers: { Upgrade: "websocket" } })).status).toBe(400);
    }
    expect((await v1("GET", uploadUrl("not-a-uuid").slice(BASE.length), { auth: recorder, headers: { Upgrade: "websocket" } })).status).toBe(400);
    expectError(await v1("GET", uploadUrl(room.id).slice(BASE.length), { auth: recorder }), 400, "bad_request");
    expect(await roomAssets(owner, room.id)).toEqual([]);
  });

  it("closes the socket on protocol errors and stores nothing", async () => {
    const owner = await signIn("as-owner");
    const room = await createRoom(owner);
    expect((await stream(room.id, [frame(0, bytes("a")), frame(2, bytes("c"))])).code).toBe(1008);
    expect((await stream(room.id, [new Uint8Array([0, 0])])).code).toBe(1008);
    expect((await stream(room.id, ["text"])).code).toBe(1003);
    // A well-formed upload afterwards is the only asset.
    const asset = await upload(owner, room.id, [bytes("ok")]);
    expect((await roomAssets(owner, room.id)).map((a) => a.id)).toEqual([asset.id]);
  });

  it("enforces the owner's max_storage quota (413) once it is used up", async () => {
    const owner = await signIn("as-owner");
    const admin = await signInAdmin();
    const tariff = await v1("POST", "/v1/admin/tariffs", { token: admin.token, json: { name: `storage-${crypto.randomUUID()}`, quotas: { max_storage: 4 } } });
    expect(tariff.status).toBe(201);
    expect((await v1("PUT", `/v1/admin/users/${owner.id}/tariff`, { token: admin.token, json: { tariff_id: tariff.body.id } })).status).toBe(200);
    const room = await createRoom(owner);
    // Quota left at the start: the file need not fit (reference behaviour).
    await upload(owner, room.id, [bytes("twelve bytes")]);
    const refused = await v1("GET", uploadUrl(room.id).slice(BASE.length), { auth: `Bearer ${await recorderToken()}`, headers: { Upgrade: "websocket" } });
    expectError(refused, 413, "storage_quota_exceeded");
    // Another room of the same owner shares the quota.
    const other = await createRoom(owner);
    expectError(await v1("GET", uploadUrl(other.id).slice(BASE.length), { auth: `Bearer ${await recorderToken()}`, headers: { Upgrade: "websocket" } }), 413, "storage_quota_exceeded");
    expect(await roomAssets(owner, room.id)).toHaveLength(1);
  });
});
