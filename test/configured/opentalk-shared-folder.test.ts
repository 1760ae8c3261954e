import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createEvent, expectError, signIn, timedEvent, v1 } from "../helpers/opentalk";

// In this project EdgeTalk's outbound fetches reach test/fixtures/fake-nextcloud.mjs (vitest.config.ts).
const CLOUD = "https://cloud.example.test";

interface CloudState {
  folders: string[];
  shares: { id: string; path: string; permissions: number; password: string; url: string }[];
}

async function cloud(path: string, method = "GET"): Promise<CloudState> {
  return (await (await fetch(`${CLOUD}${path}`, { method })).json()) as CloudState;
}

async function invitedEvent(title: string) {
  const owner = await signIn("sf-owner");
  const invitee = await signIn("sf-invitee");
  const ev = await createEvent(owner, { ...timedEvent("2030-04-01T10:00:00Z"), title });
  expect((await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: invitee.id } })).status).toBe(201);
  return { owner, invitee, ev, path: `/v1/events/${ev.id}/shared_folder` };
}

describe("/v1/events/{id}/shared_folder on a configured Nextcloud", () => {
  it("creates the folder and two password links (201, then 200), shows read-write to the creator only, deletes both (204)", async () => {
    const { owner, invitee, ev, path } = await invitedEvent("Board: Q3 review!");
    const created = await v1("PUT", path, { token: owner.token });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      read: { url: expect.stringMatching(/^https:\/\/cloud\.example\.test\/s\//), password: expect.stringMatching(/^[A-Za-z0-9]{20}$/) },
      read_write: { url: expect.stringMatching(/^https:\/\/cloud\.example\.test\/s\//), password: expect.stringMatching(/^[A-Za-z0-9]{20}$/) },
    });
    const folder = `opentalk/2030-04-01-Board Q3 review-${ev.id}`;
    const state = await cloud("/__state");
    expect(state.folders).toEqual(expect.arrayContaining(["opentalk", folder]));
    const mine = state.shares.filter((s) => s.path === folder);
    expect(mine.map((s) => [s.permissions, s.url, s.password])).toEqual([
      [1, created.body.read.url, created.body.read.password],
      [15, created.body.read_write.url, created.body.read_write.password],
    ]);

    const again = await v1("PUT", path, { token: owner.token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    expect((await cloud("/__state")).shares.filter((s) => s.path === folder)).toHaveLength(2);

    expect((await v1("GET", path, { token: owner.token })).body).toEqual(created.body);
    const seen = await v1("GET", path, { token: invitee.token });
    expect(seen.status).toBe(200);
    expect(seen.body).toEqual({ read: created.body.read });
    expect((await v1("GET", `/v1/events/${ev.id}`, { token: invitee.token })).body.shared_folder).toEqual({ read: created.body.read });
    expectError(await v1("PUT", path, { token: invitee.token }), 403, "forbidden");
    expectError(await v1("DELETE", path, { token: invitee.token }), 403, "forbidden");

    expect((await v1("DELETE", path, { token: owner.token })).status).toBe(204);
    const after = await cloud("/__state");
    expect(after.folders).not.toContain(folder);
    expect(after.shares.filter((s) => s.path === folder)).toEqual([]);
    expectError(await v1("GET", path, { token: owner.token }), 404, "not_found");
    expect((await v1("DELETE", path, { token: owner.token })).status).toBe(204);
  });

  it("creates the folder with the event when has_shared_folder is true", async () => {
    const owner = await signIn("sf-owner");
    const ev = await createEvent(owner, { ...timedEvent("2030-04-02T10:00:00Z"), has_shared_folder: true });
    expect(ev.shared_folder).toMatchObject({ read: { url: expect.any(String) }, read_write: { url: expect.any(String) } });
    expect((await v1("GET", `/v1/events/${ev.id}/shared_folder`, { token: owner.token })).body).toEqual(ev.shared_folder);
  });

  it("a failing remote deletion is a 500 that keeps the reference, unless forced", async () => {
    const { owner, ev, path } = await invitedEvent("Fails");
    expect((await v1("PUT", path, { token: owner.token })).status).toBe(201);
    await cloud("/__fail_deletes", "POST");
    try {
      expectError(await v1("DELETE", path, { token: owner.token }), 500, "internal_server_error");
      expect((await v1("GET", path, { token: owner.token })).status).toBe(200);
      expect((await v1("DELETE", `${path}?force_delete_reference_if_shared_folder_deletion_fails=true`, { token: owner.token })).status).toBe(204);
      expectError(await v1("GET", path, { token: owner.token }), 404, "not_found");
    } finally {
      await cloud("/__reset_failures", "POST");
    }
    const row = await env.DB.prepare("SELECT count(*) AS n FROM event_shared_folders WHERE event_id = ?").bind(ev.id).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});
