/** Builds the Hono app once: error shaping per dialect, identity, OCS plumbing, all routes. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { identityMiddleware } from "./auth/identity";
import { cookieSession } from "./auth/cookie";
import { registerCloudRoutes } from "./cloud/cloud.routes";
import { registerDocs } from "./docs/docs.routes";
import type { AppEnv } from "./lib/context";
import { OcsError, OpenTalkError, OPENTALK_ERROR_CONTENT_TYPE, PlainTextError } from "./lib/errors";
import { readOcsParams } from "./lib/route";
import { ocsFormat, ocsMeta, renderOcs } from "./ocs/envelope";
import { registerOidcRoutes } from "./auth/oidc.routes";
import { registerAuthorizeRoutes } from "./auth/authorize.routes";
import { CORS_PATHS, corsMiddleware, securityHeaders } from "./lib/http-security";
import { registerLoginRoutes } from "./web/login.routes";
import { registerLoginFlowRoutes } from "./web/login-flow.routes";
import { registerAccountPageRoutes } from "./web/account.routes";
import { registerAccountRoutes } from "./cloud/account.routes";
import { registerAvatarRoutes } from "./cloud/avatar.routes";
import { registerUserStatusRoutes } from "./cloud/user-status.routes";
import { registerPushRoutes } from "./cloud/push.routes";
import { registerTalkAvatarRoutes } from "./talk/avatar.routes";
import { registerOpenTalkAuthRoutes } from "./opentalk/auth.routes";
import { registerOpenTalkUserRoutes } from "./opentalk/users.routes";
import { registerEventRoutes } from "./opentalk/events.routes";
import { registerInstanceRoutes } from "./opentalk/instances.routes";
import { registerEventInviteRoutes } from "./opentalk/event-invites.routes";
import { registerOpenTalkRoomRoutes } from "./opentalk/rooms.routes";
import { registerOpenTalkInviteRoutes } from "./opentalk/invites.routes";
import { registerOpenTalkSignalingRoutes } from "./opentalk/signaling.routes";
import { registerOpenTalkSipRoutes } from "./opentalk/sip.routes";
import { registerOpenTalkTurnRoutes } from "./opentalk/turn.routes";
import { registerStreamingTargetRoutes } from "./opentalk/streaming-targets.routes";
import { registerAssetRoutes } from "./opentalk/assets.routes";
import { registerRecordingRoutes } from "./opentalk/recording.routes";
import { registerSharedFolderRoutes } from "./opentalk/shared-folder.routes";
import { registerTalkRoomRoutes } from "./talk/rooms.routes";
import { registerNotificationRoutes } from "./cloud/notifications.routes";
import { registerTalkCallRoutes } from "./talk/calls.routes";
import { registerTalkParticipantRoutes } from "./talk/participants.routes";
import { registerTalkSignalingRoutes } from "./talk/signaling.routes";
import { registerTalkWebinarRoutes } from "./talk/webinar.routes";
import { registerTalkSessionRoutes } from "./talk/sessions.routes";
import { registerTalkSettingsRoutes } from "./talk/settings.routes";
import { registerTalkChatRoutes } from "./talk/chat.routes";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.onError((err, c) => errorResponse(err, c));
  app.notFound((c) => {
    if (c.req.path.startsWith("/ocs/")) return renderOcs(formatOf(c), 404, [], ocsMeta(404, 404, "Invalid query"));
    return otError(OpenTalkError.notFound());
  });

  app.use("*", securityHeaders);
  for (const path of CORS_PATHS) app.use(path, corsMiddleware);
  app.use("*", identityMiddleware);
  app.use("/ocs/*", async (c, next) => {
    const bearer = /^bearer\s/i.test(c.req.header("authorization") ?? "");
    if (!bearer && c.req.header("ocs-apirequest")?.toLowerCase() !== "true") {
      return c.json({ message: "CSRF check failed" }, 412);
    }
    const session = await cookieSession(c);
    c.set("cookieSession", session.id);
    try {
      c.set("ocsParams", await readOcsParams(c.req.raw));
    } catch (err) {
      // An unreadable body is bad input of the route it was sent to, which answers it in its own terms.
      if (!(err instanceof OcsError && err.status === 400)) throw err;
      c.set("ocsParams", {});
      c.set("ocsBodyError", err.message);
    }
    await next();
    if (session.setCookie) {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.append("Set-Cookie", session.setCookie);
    }
  });

  registerCloudRoutes(app);
  registerAccountRoutes(app);
  registerLoginFlowRoutes(app);
  registerAccountPageRoutes(app);
  registerAvatarRoutes(app);
  registerUserStatusRoutes(app);
  registerPushRoutes(app);
  registerOidcRoutes(app);
  registerAuthorizeRoutes(app);
  registerLoginRoutes(app);
  registerOpenTalkAuthRoutes(app);
  registerEventRoutes(app);
  registerInstanceRoutes(app);
  registerEventInviteRoutes(app);
  registerOpenTalkUserRoutes(app);
  registerOpenTalkRoomRoutes(app);
  registerOpenTalkInviteRoutes(app);
  registerOpenTalkSignalingRoutes(app);
  registerOpenTalkSipRoutes(app);
  registerOpenTalkTurnRoutes(app);
  registerStreamingTargetRoutes(app);
  registerAssetRoutes(app);
  registerRecordingRoutes(app);
  registerSharedFolderRoutes(app);
  registerTalkRoomRoutes(app);
  registerTalkAvatarRoutes(app);
  registerTalkSettingsRoutes(app);
  registerTalkChatRoutes(app);
  registerTalkSessionRoutes(app);
  registerTalkParticipantRoutes(app);
  registerTalkCallRoutes(app);
  registerTalkWebinarRoutes(app);
  registerTalkSignalingRoutes(app);
  registerNotificationRoutes(app);
  registerDocs(app);
  return app;
}

function formatOf(c: Context<AppEnv>) {
  return ocsFormat(c.req.query("format"), c.req.header("accept") ?? null, c.var.ocsParams?.format);
}

function otError(err: OpenTalkError): Response {
  return new Response(JSON.stringify(err.body()), {
    status: err.status,
    headers: { "Content-Type": OPENTALK_ERROR_CONTENT_TYPE, ...err.headers },
  });
}

function errorResponse(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof OcsError) {
    return renderOcs(formatOf(c), err.status, err.data, ocsMeta(err.status, err.statuscode, err.message), err.headers);
  }
  if (err instanceof OpenTalkError) return otError(err);
  if (err instanceof PlainTextError) return new Response(err.message, { status: err.status, headers: { "Content-Type": "text/plain" } });
  console.error("unhandled error", c.req.method, c.req.path, err);
  if (c.req.path.startsWith("/ocs/")) return renderOcs(formatOf(c), 500, [], ocsMeta(500, 500, "Internal server error"));
  return otError(new OpenTalkError(500, "internal_server_error", "An internal server error occurred"));
}
