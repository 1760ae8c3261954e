/**
 * Real eviction of a Durable Object. The pool release that runs on Node 20 has no
 * `evictDurableObject`, but workerd evicts an idle object (keeping hibernatable WebSockets
 * connected) after about ten seconds without events. This helper waits for that to happen and
 * proves it by the instance nonce changing: the state read afterwards comes from storage.
 */
const IDLE_EVICTION_MS = 11_000;

export async function evictDurableObject(stub: { instanceNonce(): Promise<string> }): Promise<void> {
  const before = await stub.instanceNonce();
  for (let attempt = 0; attempt < 3; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_EVICTION_MS));
    if ((await stub.instanceNonce()) !== before) return;
  }
  throw new Error("the Durable Object was not evicted");
}
