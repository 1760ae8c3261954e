/**
 * `/v1/events/{event_id}/shared_folder` (seed 004, reference §3.7, §1.4): the event's folder on
 * the configured Nextcloud. Creator and invitees read it (the read-write link only for the
 * creator); the creator creates (201, or 200 when it existed) and deletes it (204, also when
 * there is none). Without a configured server, PUT answers 400.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { eventAccess, me, ownedEvent } from "./events.access";
import { sharedFolderResource } from "./events.present";
import { EventIdParams, queryBool, SuppressQuery } from "./events.schemas";
import { createSharedFolder, deleteSharedFolder, findSharedFolder } from "./shared-folder";

const TAGS = ["shared_folder"];

const Link = z.object({ url: z.string(), password: z.string() });
export const SharedFolderSchema = z
  .object({ read: Link, read_write: Link.optional().openapi({ description: "Only for the event's creator" }) })
  .openapi("SharedFolder");

const DeleteQuery = SuppressQuery.extend({ force_delete_reference_if_shared_folder_deletion_fails: queryBool().optional() });

export function registerSharedFolderRoutes(app: OpenAPIHono<AppEnv>) {
  const path = "/v1/events/{event_id}/shared_folder";

  otRoute(
    app,
    { method: "get", path, summary: "Get the shared folder for an event", tags: TAGS, auth: "bearer", params: EventIdParams, success: { status: 200, description: "The shared folder", schema: SharedFolderSchema } },
    async (c, { params }) => {
      const db = database(c.env);
      const { event, owner } = await eventAccess(db, params.event_id, me(c));
      const folder = await findSharedFolder(db, event.id);
      if (!folder) throw OpenTalkError.notFound();
      return c.json(sharedFolderResource(folder, owner));
    },
  );

  otRoute(
    app,
    {
      method: "put",
      path,
      summary: "Create a shared folder for an event",
      tags: TAGS,
      auth: "bearer",
      params: EventIdParams,
      query: SuppressQuery,
      success: { status: 201, description: "Created (201) or already there (200)", schema: SharedFolderSchema },
    },
    async (c, { params }) => {
      const db = database(c.env);
      const event = await ownedEvent(db, params.event_id, me(c));
      const { folder, created } = await createSharedFolder(c.env, db, event);
      return c.json(sharedFolderResource(folder, true), created ? 201 : 200);
    },
  );

  otRoute(
    app,
    {
      method: "delete",
      path,
      summary: "Delete the shared folder for an event",
      tags: TAGS,
      auth: "bearer",
      params: EventIdParams,
      query: DeleteQuery,
      success: { status: 204, description: "Deleted (also when there was none)" },
    },
    async (c, { params, query }) => {
      const db = database(c.env);
      const event = await ownedEvent(db, params.event_id, me(c));
      await deleteSharedFolder(c.env, db, event, query.force_delete_reference_if_shared_folder_deletion_fails ?? false);
      return c.body(null, 204);
    },
  );
}
