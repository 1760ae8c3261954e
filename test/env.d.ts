import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      EDGETALK_ADMIN_PASSWORD: string;
      EDGETALK_SECRET: string;
      EDGETALK_OIDC_PRIVATE_KEY: string;
      /** Talk's OpenAPI document as JSON text, or "" where the reference material is not on the machine. */
      SPREED_OPENAPI: string;
      /** The seed's OpenTalk spec (frontend_api 2024-02-21) as JSON text, or "" where it is not on the machine. */
      OPENTALK_OPENAPI: string;
    }
  }
}
