/**
 * Bodies the seed marks "non-empty" (`minProperties: 1`): an object that sets nothing fails
 * validation with the reference's struct-level entry `missing_values` (422, no `field`).
 */
import type { z } from "@hono/zod-openapi";

/** `isSet` says which values count: absent only (default), or also null where null means "unchanged". */
export function nonEmpty<T extends z.ZodObject>(schema: T, isSet: (value: unknown) => boolean = (v) => v !== undefined) {
  return schema.refine((body) => Object.values(body).some(isSet), {
    message: "at least one field must be set",
    params: { code: "missing_values" },
  });
}
