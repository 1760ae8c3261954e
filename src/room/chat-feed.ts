/**
 * Readers waiting for the room chat (Talk's chat long-poll, `lookIntoFuture=1`): the commit step
 * wakes them when a message lands in the room chat, a history is cleared or a read marker moves,
 * whichever dialect wrote it.
 */
import { ROOM_SCOPE } from "./chat-store";
import type { Presence, RoomChange } from "./presence";

export class ChatFeed implements Presence {
  private readonly waiters = new Set<() => void>();

  changed(change: RoomChange): void {
    if (!change.chat && !change.historyCleared && !change.deleted && !change.messages.some((m) => m.scope === ROOM_SCOPE)) return;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves after `ms`, or earlier when the chat changes. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  nextAlarm(): number | null {
    return null;
  }

  async alarm(): Promise<void> {}
}
