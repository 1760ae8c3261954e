/** Request schemas of /v1/events (reference §3.4–3.6, §4.3): field names and limits as the seed gives them. */
import { z } from "@hono/zod-openapi";
import { nonEmpty } from "./non-empty";
import { isTimeZone } from "./timezone";
import { MAX_PATTERN_LINE_LENGTH, MAX_PATTERN_LINES } from "./recurrence";

/** A parse error the reference's JSON extractor reports as 400 `invalid_json` (not a 422 validation). */
function shapeIssue(ctx: z.RefinementCtx, message: string, input: unknown) {
  ctx.addIssue({ code: "invalid_value", values: [], input, message });
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp, parsed to milliseconds since the epoch. */
export const Instant = z
  .string()
  .superRefine((v, ctx) => {
    if (!RFC3339.test(v) || Number.isNaN(Date.parse(v))) shapeIssue(ctx, "expected an RFC 3339 timestamp", v);
  })
  .transform((v) => Date.parse(v));

export const DateTimeTZ = z
  .object({
    datetime: Instant,
    timezone: z.string().superRefine((v, ctx) => {
      if (!isTimeZone(v)) shapeIssue(ctx, `unknown time zone ${JSON.stringify(v)}`, v);
    }),
  })
  .openapi("DateTimeTZ", { description: "An instant (RFC 3339) and the IANA zone the event is planned in" });
export type DateTimeTZInput = z.output<typeof DateTimeTZ>;

export const RecurrencePattern = z
  .array(z.string().max(MAX_PATTERN_LINE_LENGTH))
  .max(MAX_PATTERN_LINES)
  .openapi("RecurrencePattern", { description: "RFC 5545 RRULE, RDATE, EXRULE and EXDATE lines (no DTSTART/DTEND)" });

export const StreamingTargetBody = z
  .object({
    name: z.string().min(1).max(255),
    kind: z.literal("custom"),
    streaming_endpoint: z.url({ protocol: /^(rtmps?|srt|https?)$/ }).max(2048),
    streaming_key: z.string().max(1024),
    public_url: z.url({ protocol: /^https?$/ }).max(2048),
  })
  .openapi("StreamingTargetBody");

export const PostEventBody = z
  .object({
    title: z.string().max(255),
    description: z.string().max(4096),
    password: z.string().min(1).max(255).nullish(),
    is_adhoc: z.boolean().optional(),
    waiting_room: z.boolean().optional(),
    is_time_independent: z.boolean(),
    is_all_day: z.boolean().nullish(),
    starts_at: DateTimeTZ.nullish(),
    ends_at: DateTimeTZ.nullish(),
    recurrence_pattern: RecurrencePattern.optional(),
    streaming_targets: z.array(StreamingTargetBody).max(20).optional(),
    has_shared_folder: z.boolean().optional(),
  })
  .openapi("PostEventsBody");
export type PostEvent = z.output<typeof PostEventBody>;

export const PatchEventBody = nonEmpty(
  z.object({
    title: z.string().max(255).optional(),
    description: z.string().max(4096).optional(),
    /** null clears the room password; absent leaves it. */
    password: z.string().min(1).max(255).nullable().optional(),
    is_adhoc: z.boolean().optional(),
    waiting_room: z.boolean().optional(),
    is_time_independent: z.boolean().optional(),
    is_all_day: z.boolean().optional(),
    starts_at: DateTimeTZ.optional(),
    ends_at: DateTimeTZ.optional(),
    recurrence_pattern: RecurrencePattern.optional(),
  }),
).openapi("PatchEventBody");
export type PatchEvent = z.output<typeof PatchEventBody>;

export const PatchInstanceBody = nonEmpty(
  z.object({
    title: z.string().max(255).optional(),
    description: z.string().max(4096).optional(),
    is_all_day: z.boolean().optional(),
    starts_at: DateTimeTZ.optional(),
    ends_at: DateTimeTZ.optional(),
    status: z.enum(["ok", "cancelled"]).optional(),
  }),
).openapi("PatchEventInstanceBody");

/** Query booleans: `true` / `false`. */
export const queryBool = () => z.enum(["true", "false"]).transform((v) => v === "true");

/** A non-negative integer query value. */
const queryInt = () =>
  z
    .string()
    .regex(/^\d{1,9}$/, "expected a non-negative integer")
    .transform(Number);

/** `per_page` on cursor-paginated lists: clamped to 1…100, never an error (reference §1.5). */
export const clampedPerPage = () =>
  queryInt()
    .transform((n) => Math.min(100, Math.max(1, n)))
    .optional()
    .default(30);

export const SuppressQuery = z.object({ suppress_email_notification: queryBool().optional() });

export const EventQuery = z.object({ invitees_max: queryInt().optional().default(0) });

export const EventListQuery = z.object({
  time_min: Instant.optional(),
  time_max: Instant.optional(),
  invitees_max: queryInt().optional().default(0),
  per_page: clampedPerPage(),
  after: z.string().max(512).optional(),
  favorites: queryBool().optional(),
  adhoc: queryBool().optional(),
  time_independent: queryBool().optional(),
});

export const EventIdParams = z.object({ event_id: z.uuid() });
