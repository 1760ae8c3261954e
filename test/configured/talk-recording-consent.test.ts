/** Recording consent required by the server (EDGETALK_RECORDING_CONSENT=1 in this project). */
import { expect, it } from "vitest";
import { CookieJar, createUser, ocs } from "../helpers/http";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";

it("refuses to join a call without consent (400 consent) and lets consenting callers in", async () => {
  const alice = await createUser("alice");
  const caps = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: alice });
  expect(caps.data.capabilities.spreed.config.call["recording-consent"]).toBe(1);
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Recorded" } });
  const token = room.data.token;
  expect(room.data.recordingConsent).toBe(1);
  const jar = new CookieJar();
  await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar });

  const refused = await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar, body: { flags: 3 } });
  expect(refused.status).toBe(400);
  expect(refused.data).toEqual({ error: "consent" });
  expect((await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar, body: { flags: 3, recordingConsent: false } })).status).toBe(400);
  expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice, jar })).data.hasCall).toBe(false);

  const joined = await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar, body: { flags: 3, recordingConsent: true } });
  expect(joined.status).toBe(200);
  expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice, jar })).data).toMatchObject({ hasCall: true, participantFlags: 3 });
  // Access checks come first: a stranger still gets 404.
  const stranger = await createUser("stranger");
  expect((await ocs("POST", `${V4}/call/${token}`, { auth: stranger, jar: new CookieJar(), body: { flags: 3 } })).status).toBe(404);
});
