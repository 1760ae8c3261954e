/**
 * Real eviction of a Durable Object. The pool release that runs on Node 20 has no
 * `evictDurableObject`, but workerd evicts an idle object (keeping hibernatable WebSockets
 * connected) after about ten seconds without events. This helper marks the live instance, waits
 * for that to happen and proves it by the mark being gone: the state read afterwards comes from
 * storage.
 */
import { runInDurableObject } from "cloudflare:test";

const IDLE_EVICTION_MS = 11_000;

type Marked = { __evictionMark?: string };
type Stub = Parameters<typeof runInDurableObject>[0];

export async function evictDurableObject(stub: Stub): Promise<void> {
  const mark = crypto.randomUUID();
  await runInDurableObject(stub, (instance) => {
    (instance as unknown as Marked).__evictionMark = mark;
  });
  for (let attempt = 0; attempt < 3; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_EVICTION_MS));
    if ((await runInDurableObject(stub, (instance) => (instance as unknown as Marked).__evictionMark)) !== mark) return;
  }
  throw new Error("the Durable Object was not evicted");
}
