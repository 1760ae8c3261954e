/**
 * Coalesces participant announcements (`joined` / `update` / `left`) for large rooms.
 *
 * In a join storm every join would otherwise reach every present participant at once, and a
 * participant who joins, raises a hand and drops within the window would cause three fan-outs.
 * Changes are noted per participant; a drain yields at most one announcement per participant,
 * decided by whether the others had been told about them before the window and whether they are
 * present now. A recipient who received a full snapshot (`join_success`) after the last change of
 * a participant already knows that participant's current state and is skipped.
 */

export type Announcement = "joined" | "update" | "left";

interface Pending {
  /** Whether the participant was announced as present before the first change in this window. */
  announced: boolean;
  firstSeq: number;
  lastSeq: number;
}

export interface Drained {
  id: string;
  /** The announcement for one recipient; null: nothing to send to them. */
  kindFor(recipient: string): Announcement | null;
}

export class Coalescer {
  private seq = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly snapshots = new Map<string, number>();

  /** Notes a change of participant `id`; `announcedBefore` = the others knew them as present. */
  note(id: string, announcedBefore: boolean): void {
    this.seq += 1;
    const entry = this.pending.get(id);
    if (entry) entry.lastSeq = this.seq;
    else this.pending.set(id, { announced: announcedBefore, firstSeq: this.seq, lastSeq: this.seq });
  }

  /** Notes that `recipient` just received the full participant list. */
  snapshot(recipient: string): void {
    this.seq += 1;
    this.snapshots.set(recipient, this.seq);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Everything noted so far, one entry per participant; `present(id)` = joined right now. */
  drain(present: (id: string) => boolean): Drained[] {
    const out: Drained[] = [];
    const snapshots = new Map(this.snapshots);
    for (const [id, entry] of this.pending) {
      const now = present(id);
      const kind: Announcement | null = now ? (entry.announced ? "update" : "joined") : entry.announced ? "left" : null;
      const kindFor = (recipient: string): Announcement | null => {
        const snap = snapshots.get(recipient);
        if (snap === undefined || snap < entry.firstSeq) return kind;
        if (snap > entry.lastSeq) return null; // the snapshot already showed the current state
        return now ? "update" : "left"; // the snapshot showed an earlier state of this window
      };
      out.push({ id, kindFor });
    }
    this.pending.clear();
    this.snapshots.clear();
    return out;
  }
}
