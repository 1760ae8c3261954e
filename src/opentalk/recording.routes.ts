/**
 * `GET /v1/services/recording/upload` (reference v0.30, `api::v1::services::recording`): a
 * recorder streams a rendered recording over a WebSocket and it becomes an asset of the room.
 * Auth: a client_credentials token whose roles include `opentalk-recorder` (else 401).
 *
 * Protocol as the reference's: every binary message is a 4-byte big-endian sequence number
 * (0, 1, 2, …) followed by data; closing the socket ends the file. The asset (kind and namespace
 * `recording`, filename `[event title_]recording_<UTC time>.<ext>`) is stored when the socket
 * closes normally. A text message, a short message or a sequence number out of order closes the
 * socket with 1003/1008 and stores nothing.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database, type Db } from "../db/client";
import { findRoomSummary } from "../db/opentalk-rooms";
import { assets } from "../db/schema";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { assetFilename, assetKey, checkStorageQuota, ChunkedObjectWriter, eventTitleOfRoom } from "./asset-store";
import { Instant } from "./events.schemas";

export const RECORDER_ROLE = "opentalk-recorder";
const RECORDING = "recording";

const UploadQuery = z.object({
  room_id: z.uuid(),
  file_extension: z.string().regex(/^[0-9a-zA-Z]{0,10}$/, "up to 10 letters or digits"),
  timestamp: Instant.openapi({ type: "string", description: "RFC 3339: when the recording was made" }),
});

interface Upload {
  db: Db;
  roomId: string;
  filename: string;
  writer: ChunkedObjectWriter;
  key: string;
}

/** Receives the socket's messages in order and stores the asset when it closes. */
function receive(server: WebSocket, upload: Upload): Promise<void> {
  let expected = 0;
  let failed = false;
  // Messages are handled strictly one after the other.
  let queue: Promise<void> = Promise.resolve();
  const fail = (code: number, reason: string) => {
    failed = true;
    server.close(code, reason);
  };
  server.addEventListener("message", (event) => {
    queue = queue.then(async () => {
      if (failed) return;
      if (typeof event.data === "string") return fail(1003, "binary messages only");
      // Binary messages arrive as Blobs or ArrayBuffers depending on the compatibility date.
      const bytes = new Uint8Array(event.data instanceof Blob ? await event.data.arrayBuffer() : event.data);
      if (bytes.byteLength < 4) return fail(1008, "message without a sequence number");
      const sequence = new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0);
      if (sequence !== expected) return fail(1008, `expected sequence number ${expected}`);
      expected += 1;
      await upload.writer.add(bytes.subarray(4));
    });
  });
  return new Promise((resolve) => {
    let ended = false;
    // The first of close and error decides; a later one (e.g. the connection dropping after the close) is ignored.
    const end = (clean: boolean) => {
      if (ended) return;
      ended = true;
      queue = queue.then(async () => {
        if (failed || !clean || expected === 0) {
          await upload.writer.abort();
          return;
        }
        await upload.writer.finish();
        await upload.db.insert(assets).values({
          id: upload.key.slice(upload.key.lastIndexOf("/") + 1),
          roomId: upload.roomId,
          createdAt: Date.now(),
          namespace: RECORDING,
          kind: RECORDING,
          filename: upload.filename,
          size: upload.writer.size,
        });
      });
      queue.catch((err) => console.error("recording upload failed", upload.key, err)).finally(resolve);
    };
    server.addEventListener("close", (event) => end(event.code === 1000 || event.code === 1005));
    server.addEventListener("error", () => end(false));
  });
}

export function registerRecordingRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/services/recording/upload",
      summary: "Streaming upload of a rendered recording (WebSocket; binary messages: 4-byte sequence number + data)",
      tags: ["services", "recording", "assets"],
      auth: "service",
      query: UploadQuery,
      success: { status: 101, description: "WebSocket established; the asset is stored when the socket closes" },
    },
    async (c, { query }) => {
      const identity = c.get("identity");
      if (identity.kind !== "service" || !identity.roles.includes(RECORDER_ROLE)) throw OpenTalkError.unauthorized();
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw OpenTalkError.badRequest("Expected a WebSocket upgrade");
      const db = database(c.env);
      const room = await findRoomSummary(db, query.room_id.toLowerCase());
      if (!room?.createdBy) throw OpenTalkError.notFound();
      await checkStorageQuota(db, room.createdBy);
      const filename = assetFilename(RECORDING, new Date(query.timestamp), query.file_extension, await eventTitleOfRoom(db, room.id));
      const key = assetKey(room.id, crypto.randomUUID());

      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
      server.accept();
      const done = receive(server, { db, roomId: room.id, filename, key, writer: new ChunkedObjectWriter(c.env.ASSETS, key, "application/octet-stream") });
      c.executionCtx.waitUntil(done);
      return new Response(null, { status: 101, webSocket: client });
    },
  );
}
