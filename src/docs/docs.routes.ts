/** `/openapi.json` (generated from the zod route definitions) and a self-contained docs page. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../lib/context";
import { ALNUM, randomString } from "../lib/crypto";
import { htmlSecurityHeaders } from "../lib/http-security";
import { EDGETALK_VERSION } from "../version";
import { DOCS_PAGE } from "./page";

export function registerDocs(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "BearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  app.openAPIRegistry.registerComponent("securitySchemes", "BasicAuth", { type: "http", scheme: "basic" });
  app.get("/openapi.json", (c) =>
    c.json(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "EdgeTalk",
          version: EDGETALK_VERSION.edgetalk,
          description: "Nextcloud Talk (OCS) and OpenTalk controller (/v1) APIs served from Cloudflare Workers.",
        },
      }),
    ),
  );
  app.get("/docs", () => {
    // The page's one style sheet and one script run under a per-response nonce, nothing else.
    const nonce = randomString(24, ALNUM);
    const html = DOCS_PAGE.replace("<style>", `<style nonce="${nonce}">`).replace("<script>", `<script nonce="${nonce}">`);
    return new Response(html, { headers: htmlSecurityHeaders(nonce, { script: true, connect: true }) });
  });
}
