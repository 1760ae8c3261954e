import { describe, expect, it } from "vitest";
import { createEvent, expectError, signIn, signInAdmin, timedEvent, v1 } from "./helpers/opentalk";

// This project has no shared-folder server configured (vitest.config.ts pins it empty);
// test/configured/opentalk-shared-folder.test.ts covers a configured one.
describe("/v1/events/{id}/shared_folder without a configured server", () => {
  it("PUT answers 400 'No shared folder configured for this server'; GET 404; DELETE 204", async () => {
    const owner = await signIn("sf-owner");
    const ev = await createEvent(owner, timedEvent("2030-03-01T10:00:00Z"));
    const path = `/v1/events/${ev.id}/shared_folder`;
    const put = await v1("PUT", path, { token: owner.token });
    expectError(put, 400, "bad_request");
    expect(put.body.message).toBe("No shared folder configured for this server");
    expectError(await v1("GET", path, { token: owner.token }), 404, "not_found");
    expect((await v1("DELETE", path, { token: owner.token })).status).toBe(204);
    expect((await v1("GET", `/v1/events/${ev.id}`, { token: owner.token })).body.shared_folder).toBeUndefined();
  });

  it("hides the event from strangers and administrators (404), refuses invitees' writes (403)", async () => {
    const owner = await signIn("sf-owner");
    const invitee = await signIn("sf-invitee");
    const stranger = await signIn("sf-stranger");
    const admin = await signInAdmin();
    const ev = await createEvent(owner, timedEvent("2030-03-02T10:00:00Z"));
    expect((await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: invitee.id } })).status).toBe(201);
    const path = `/v1/events/${ev.id}/shared_folder`;
    expectError(await v1("GET", path, { token: invitee.token }), 404, "not_found");
    expectError(await v1("PUT", path, { token: invitee.token }), 403, "forbidden");
    expectError(await v1("DELETE", path, { token: invitee.token }), 403, "forbidden");
    for (const user of [stranger, admin]) {
      for (const method of ["GET", "PUT", "DELETE"]) expectError(await v1(method, path, { token: user.token }), 404, "not_found");
    }
    expectError(await v1("GET", path, {}), 401, "unauthorized");
    expectError(await v1("PUT", "/v1/events/not-a-uuid/shared_folder", { token: owner.token }), 404, "not_found");
    expectError(await v1("PUT", `/v1/events/${crypto.randomUUID()}/shared_folder`, { token: owner.token }), 404, "not_found");
    expect((await v1("DELETE", `${path}?force_delete_reference_if_shared_folder_deletion_fails=maybe`, { token: owner.token })).status).toBe(400);
  });
});
