import { generateKeyPairSync } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { parse as parseYaml } from "yaml";

/** A fresh ES256 signing key per run: tests never depend on a committed secret. */
function testSigningKey(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: "test-key" });
}

/** Bindings every project shares; optional secrets are pinned so a local .dev.vars cannot change results. */
function bindings(migrations: unknown, extra: Record<string, string>) {
  return {
    TEST_MIGRATIONS: migrations,
    EDGETALK_ADMIN_PASSWORD: "admin-test-password",
    EDGETALK_SECRET: "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    EDGETALK_OIDC_PRIVATE_KEY: testSigningKey(),
    EDGETALK_SERVICE_CLIENTS: "callin-gateway:callin-secret:opentalk-call-in,recorder:recorder-secret:opentalk-recorder",
    EDGETALK_LOGIN_MAX_FAILURES: "5",
    EDGETALK_TURN_SECRET: "",
    EDGETALK_SIP_BRIDGE_SECRET: "",
    EDGETALK_SHARED_FOLDER_URL: "",
    EDGETALK_SHARED_FOLDER_USER: "",
    EDGETALK_SHARED_FOLDER_PASSWORD: "",
    EDGETALK_LIVEKIT_URL: "",
    EDGETALK_LIVEKIT_API_KEY: "",
    EDGETALK_LIVEKIT_API_SECRET: "",
    ...extra,
  };
}

/**
 * Talk's OpenAPI document (spreed 21.0.3), read where the reference material lives; the Talk
 * response contract test (test/talk-openapi.test.ts) is skipped, saying so, on machines without it.
 */
const SPREED_OPENAPI = process.env.SPREED_OPENAPI ?? path.join(import.meta.dirname, "../shared/spec/spreed/spreed-openapi-full.v21.0.3.json");
const spreedOpenApi = existsSync(SPREED_OPENAPI) ? readFileSync(SPREED_OPENAPI, "utf8") : "";

/** The seed's OpenTalk spec (frontend_api 2024-02-21, OpenAPI 3.1 YAML), passed to the Worker as JSON. */
const OPENTALK_OPENAPI = process.env.OPENTALK_OPENAPI ?? path.join(import.meta.dirname, "../shared/spec/opentalk/frontend_api.2024-02-21.ac7fde10.yaml");
const openTalkOpenApi = existsSync(OPENTALK_OPENAPI) ? JSON.stringify(parseYaml(readFileSync(OPENTALK_OPENAPI, "utf8"))) : "";

/** Test files that need SIP dial-in, TURN and shared folders configured run in a second Worker with those settings. */
const CONFIGURED = "test/configured/**/*.test.ts";

const contracts = { SPREED_OPENAPI: spreedOpenApi, OPENTALK_OPENAPI: openTalkOpenApi };

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const worker = (name: string, extra: Record<string, string>, include: string[], exclude: string[] = [], miniflare: Record<string, unknown> = {}) => ({
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: bindings(migrations, { ...contracts, ...extra }), ...miniflare },
      }),
    ],
    test: { name, include, exclude, setupFiles: ["./test/setup.ts"], testTimeout: 30_000 },
  });
  return {
    test: {
      projects: [
        worker("default", {}, ["test/**/*.test.ts"], [CONFIGURED]),
        worker(
          "configured",
          {
            EDGETALK_SIP_BRIDGE_SECRET: "sip-bridge-test-secret-0123456789",
            EDGETALK_SIP_DIALIN_INFO: "Dial +49 30 1234567 and enter the conversation token",
            EDGETALK_TURN_SECRET: "turn-test-secret",
            EDGETALK_TURN_SERVERS: "turn.example.test:3478",
            EDGETALK_STUN_SERVERS: "stun.example.test:3478",
            EDGETALK_SIP_GROUPS: "sip-users",
            // Talk clients stay on internal signaling here (test/configured/talk-sip.test.ts).
            EDGETALK_TALK_SIGNALING: "internal",
            EDGETALK_RECORDING_CONSENT: "1",
            EDGETALK_SHARED_FOLDER_URL: "https://cloud.example.test",
            EDGETALK_SHARED_FOLDER_USER: "opentalk-bot",
            EDGETALK_SHARED_FOLDER_PASSWORD: "nextcloud-app-password",
            EDGETALK_PUSH_PROXIES: "https://push.example.test",
            // The LiveKit stand-in (test/fixtures/fake-livekit.mjs) and its key pair.
            EDGETALK_LIVEKIT_URL: "https://livekit.example.test",
            EDGETALK_LIVEKIT_PUBLIC_URL: "wss://livekit.example.test",
            EDGETALK_LIVEKIT_API_KEY: "livekit-test-key",
            EDGETALK_LIVEKIT_API_SECRET: "livekit-test-secret-0123456789abcdef",
            // A confidential client next to a public one (test/configured/oidc-clients.test.ts).
            EDGETALK_OIDC_CLIENTS: JSON.stringify([
              { client_id: "Frontend", redirect_uris: ["http://localhost:3000/auth/callback"], post_logout_redirect_uris: ["http://localhost:3000/"] },
              { client_id: "portal", client_secret: "portal-secret-0123456789", redirect_uris: ["https://portal.example.test/cb"] },
            ]),
          },
          [CONFIGURED],
          [],
          // Every outbound fetch of this Worker goes to stand-ins: LiveKit's server API on its host,
          // Nextcloud (WebDAV + share API, push proxy) on any other (test/fixtures/outbound.mjs).
          {
            outboundService: "stand-ins",
            workers: [{ name: "stand-ins", modules: true, scriptPath: "./test/fixtures/outbound.mjs", compatibilityDate: "2026-04-20" }],
          },
        ),
      ],
    },
  };
});
