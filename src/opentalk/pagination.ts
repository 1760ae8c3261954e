/** Page-style pagination of the OpenTalk API: `page` and `per_page` in, a `Link` header out. */
import { z } from "@hono/zod-openapi";

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;
const MAX_PAGE = 2 ** 31 - 1;

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, "expected a positive integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const PageQuery = z.object({
  page: integer(1, MAX_PAGE).optional().default(1).openapi({ type: "integer", description: "Page number (from 1)" }),
  per_page: integer(1, MAX_PER_PAGE)
    .optional()
    .default(DEFAULT_PER_PAGE)
    .openapi({ type: "integer", description: `Results per page (1-${MAX_PER_PAGE}, default ${DEFAULT_PER_PAGE})` }),
});

export function pageOffset(page: number, perPage: number): number {
  return (page - 1) * perPage;
}

/**
 * The reference's Link header: the request URL with `page` replaced; `first`/`prev` after page 1,
 * `next`/`last` before the last page; entries joined by a bare comma. `null` when there is none.
 */
export function pageLinkHeader(requestUrl: string, page: number, perPage: number, total: number): string | null {
  const last = Math.ceil(total / perPage);
  const link = (target: number, rel: string) => {
    const url = new URL(requestUrl);
    url.searchParams.set("page", String(target));
    return `<${url}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(1, "first"), link(page - 1, "prev"));
  if (page < last) links.push(link(page + 1, "next"), link(last, "last"));
  return links.length ? links.join(",") : null;
}
