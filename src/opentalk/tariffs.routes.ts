/**
 * The `Tariff` resource, and EdgeTalk's administration of tariffs. The reference manages tariffs
 * from its command line (create with quotas and disabled modules/features; users get one by name
 * or through an id-token claim); EdgeTalk offers the same operations to administrators under
 * `/v1/admin`, since a Worker has no command line.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import { assignTariff, createTariff, findTariffById, listTariffs, TARIFF_STATUSES, tariffForUser, tariffResource } from "../db/tariffs";
import { type AppContext, type AppEnv, currentUser } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";

const TAGS = ["tariff"];
const MAX_QUOTA = 4294967295;
const IDENTIFIER = /^[_0-9a-z]{1,255}$/;
const FEATURE_ID = /^(?:[_0-9a-z]{1,255}::)?[_0-9a-z]{1,255}$/;

export const TariffSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    quotas: z.record(z.string(), z.number().int().min(0)),
    enabled_modules: z.array(z.string()),
    disabled_features: z.array(z.string()),
    modules: z.record(z.string(), z.object({ features: z.array(z.string()) })),
  })
  .openapi("Tariff");

const NewTariffBody = z
  .object({
    name: z.string().trim().min(1).max(255),
    quotas: z
      .record(z.string().regex(IDENTIFIER), z.number().int().min(0).max(MAX_QUOTA))
      .optional()
      .openapi({ description: "e.g. room_participant_limit, room_time_limit_secs, max_storage" }),
    disabled_modules: z.array(z.string().regex(IDENTIFIER, "invalid module id")).max(100).optional(),
    disabled_features: z
      .array(z.string().regex(FEATURE_ID, "invalid feature id"))
      .max(100)
      .optional()
      .openapi({ description: "`module::feature`, or `feature` for the core module" }),
  })
  .openapi("NewTariff");

const AssignTariffBody = z
  .object({ tariff_id: z.uuid(), tariff_status: z.enum(TARIFF_STATUSES).optional().default("default") })
  .openapi("AssignTariff");

function requireAdmin(c: AppContext): void {
  if (!currentUser(c)?.isAdmin) throw OpenTalkError.forbidden();
}

export function registerTariffAdminRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    { method: "get", path: "/v1/admin/tariffs", summary: "List tariffs (administrators)", tags: TAGS, auth: "bearer", success: { status: 200, description: "Tariffs", schema: z.array(TariffSchema) } },
    async (c) => {
      requireAdmin(c);
      return c.json((await listTariffs(database(c.env))).map((row) => tariffResource(row)));
    },
  );

  otRoute(
    app,
    { method: "post", path: "/v1/admin/tariffs", summary: "Create a tariff (administrators)", tags: TAGS, auth: "bearer", body: NewTariffBody, success: { status: 201, description: "Tariff", schema: TariffSchema } },
    async (c, { body }) => {
      requireAdmin(c);
      const row = await createTariff(database(c.env), {
        name: body.name,
        quotas: body.quotas,
        disabledModules: body.disabled_modules,
        disabledFeatures: body.disabled_features,
      });
      if (!row) throw OpenTalkError.conflict("A tariff with this name already exists");
      return c.json(tariffResource(row), 201);
    },
  );

  otRoute(
    app,
    {
      method: "put",
      path: "/v1/admin/users/{user_id}/tariff",
      summary: "Assign a tariff to a user (administrators)",
      tags: TAGS,
      auth: "bearer",
      params: z.object({ user_id: z.uuid() }),
      body: AssignTariffBody,
      success: { status: 200, description: "The user's tariff", schema: TariffSchema },
    },
    async (c, { params, body }) => {
      requireAdmin(c);
      const db = database(c.env);
      if (!(await findTariffById(db, body.tariff_id.toLowerCase()))) {
        throw OpenTalkError.validation([{ field: "tariff_id", code: "invalid_value", message: "unknown tariff" }]);
      }
      const user = await assignTariff(db, params.user_id.toLowerCase(), body.tariff_id.toLowerCase(), body.tariff_status);
      if (!user) throw OpenTalkError.notFound();
      return c.json(await tariffForUser(db, user.id));
    },
  );
}
