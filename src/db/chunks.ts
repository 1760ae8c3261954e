/** D1 binds at most 100 parameters per statement: `IN (…)` lists go in chunks of this size. */
export const IN_CHUNK = 90;

/** Runs `query` over `ids` in chunks that fit D1's parameter limit; the rows of all chunks, in order. */
export async function inChunks<T, K = string>(ids: K[], query: (chunk: K[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IN_CHUNK) out.push(...(await query(ids.slice(i, i + IN_CHUNK))));
  return out;
}
