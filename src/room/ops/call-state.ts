/** The room's call state, derived from its sessions. */
import { CALL_PING_SECONDS } from "../calls";
import { nowSeconds } from "../store";
import type { Tx } from "./actor";

/** A call runs while a session is in it and pinged within the call window. */
export function callRunning(tx: Tx): boolean {
  return tx.store.countInCall(nowSeconds() - CALL_PING_SECONDS) > 0;
}

/**
 * Derives the room's call state from its sessions: `callFlag` is the OR of every in-call session's
 * flags; the first joiner starts the clock; the call ends with its last session. Returns whether
 * anything changed.
 */
export function recomputeCall(tx: Tx): boolean {
  const { meta } = tx;
  const callFlag = tx.store.callFlags();
  const startTime = callFlag === 0 ? 0 : meta.callStartTime === 0 ? nowSeconds() : meta.callStartTime;
  if (callFlag === meta.callFlag && startTime === meta.callStartTime) return false;
  meta.callFlag = callFlag;
  meta.callStartTime = startTime;
  tx.change.settings = true;
  return true;
}
