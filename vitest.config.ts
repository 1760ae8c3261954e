import { generateKeyPairSync } from "node:crypto";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** A fresh ES256 signing key per run: tests never depend on a committed secret. */
function testSigningKey(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: "test-key" });
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            EDGETALK_ADMIN_PASSWORD: "admin-test-password",
            EDGETALK_SECRET: "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
            EDGETALK_OIDC_PRIVATE_KEY: testSigningKey(),
            EDGETALK_SERVICE_CLIENTS: "callin-gateway:callin-secret:opentalk-call-in",
            EDGETALK_LOGIN_MAX_FAILURES: "5",
            // Pinned so a developer's own .dev.vars cannot change test results.
            EDGETALK_TURN_SECRET: "",
            EDGETALK_SIP_BRIDGE_SECRET: "",
            EDGETALK_SHARED_FOLDER_URL: "",
            EDGETALK_SHARED_FOLDER_PASSWORD: "",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 30_000,
    },
  };
});
