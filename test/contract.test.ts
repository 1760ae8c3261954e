/**
 * The contract check itself (test/helpers/contract.ts, run after every test by test/setup.ts): it
 * must find what differs, and test/contract-exceptions.json must allow only what it names.
 */
import { describe, expect, it } from "vitest";
import { allowedBy, contractMismatches, haveOpenTalkOpenApi, haveSpreedOpenApi } from "./helpers/contract";

const META = { status: "ok", statuscode: 200, message: "OK" };

describe.skipIf(!haveSpreedOpenApi || !haveOpenTalkOpenApi)("contract checks against the OpenAPI documents", () => {
  it("find wrong bodies, undocumented operations and statuses, and errors outside the dialect's shape", () => {
    const conversation = contractMismatches("GET", "/ocs/v2.php/apps/spreed/api/v4/room/abc123", 200, { ocs: { meta: META, data: { token: 5 } } });
    expect(conversation.map((m) => m.template)).toContain("/ocs/v2.php/apps/spreed/api/{apiVersion}/room/{token}");
    expect(conversation.some((m) => m.error.includes("token"))).toBe(true);
    expect(conversation.every((m) => allowedBy(m) === null)).toBe(true);

    // PHP's empty array stands for an object with nothing required (addParticipantToRoom for a user).
    expect(contractMismatches("POST", "/ocs/v2.php/apps/spreed/api/v4/room/abc123/participants", 200, { ocs: { meta: META, data: [] } })).toEqual([]);

    const missing = contractMismatches("GET", "/ocs/v2.php/apps/spreed/api/v4/no/such/route", 200, { ocs: { meta: META, data: [] } });
    expect(missing).toMatchObject([{ error: "the document has no such operation" }]);
    expect(allowedBy(missing[0])).toBeNull();

    // A middleware 404 is a decision; the same status without the OCS envelope is not.
    const notFound = contractMismatches("PUT", "/ocs/v2.php/apps/spreed/api/v4/room/abc123/description", 404, { ocs: { meta: { ...META, statuscode: 404 }, data: [] } });
    expect(notFound.map((m) => allowedBy(m)?.kind)).toEqual(["decision"]);
    const bare = contractMismatches("PUT", "/ocs/v2.php/apps/spreed/api/v4/room/abc123/description", 404, { error: "x" });
    expect(bare.filter((m) => allowedBy(m) === null).map((m) => m.error)).toEqual([expect.stringMatching(/^not the OCS envelope/)]);

    const room = contractMismatches("GET", "/v1/rooms/2a1c3f9e-0000-4000-8000-000000000000", 200, { id: "2a1c3f9e-0000-4000-8000-000000000000", created_by: 1 });
    expect(room.some((m) => m.template === "/v1/rooms/{room_id}" && allowedBy(m) === null)).toBe(true);
    const teapot = contractMismatches("DELETE", "/v1/rooms/2a1c3f9e-0000-4000-8000-000000000000", 418, { message: "no" });
    expect(teapot.map((m) => m.error)).toEqual([expect.stringMatching(/^status not documented/), expect.stringMatching(/^not the error body/)]);
    expect(teapot.some((m) => allowedBy(m) === null)).toBe(true);
  });
});
