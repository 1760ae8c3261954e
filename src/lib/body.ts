/** Request body reading with a size limit, shared by both dialects. */

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLarge extends Error {}

export async function readBodyText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const length = request.headers.get("content-length");
  const declared = Number(length ?? "0");
  if (declared > limit) throw new BodyTooLarge(`request body exceeds ${limit} bytes`);
  // A declared empty body (a bodyless POST or DELETE, as Talk's join and leave are) is not read.
  if (!request.body || (length !== null && declared === 0)) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLarge(`request body exceeds ${limit} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** An `application/x-www-form-urlencoded` body (forms, OAuth endpoints), or null for any other body. */
export async function readUrlEncoded(request: Request, limit = 64 * 1024): Promise<URLSearchParams | null> {
  if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) return null;
  try {
    return new URLSearchParams(await readBodyText(request, limit));
  } catch (err) {
    if (err instanceof BodyTooLarge) return null;
    throw err;
  }
}
