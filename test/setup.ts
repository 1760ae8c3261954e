import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, expect } from "vitest";
import { allowedBy, takeMismatches } from "./helpers/contract";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// Every Talk and OpenTalk response a test received is checked against its OpenAPI document
// (test/helpers/contract.ts); a mismatch test/contract-exceptions.json does not allow fails the test.
afterEach(() => {
  const undocumented = takeMismatches()
    .filter((m) => !allowedBy(m))
    .map((m) => `${m.method} ${m.template} → ${m.status}: ${m.error}`);
  expect([...new Set(undocumented)], "responses that do not match their OpenAPI document").toEqual([]);
});
