/**
 * One Durable Object per room: the authoritative members, sessions, call flags and lobby state,
 * in memory and in the object's SQLite storage. Dialect layers (src/talk, src/opentalk) call the
 * RPC methods below and translate the results; nothing here knows about either wire format.
 */
import { DurableObject } from "cloudflare:workers";
import { IndexSync } from "./index-sync";
import { migrate } from "./schema";
import { attendeeFromRow, metaFromRow, sessionFromRow } from "./store";
import type { Attendee, RoomInit, RoomMeta, RoomSnapshot } from "./types";

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class Room extends DurableObject<Env> {
  private meta: RoomMeta | null = null;
  /** Changes whenever the object is (re)constructed; lets tests prove an eviction happened. */
  private readonly nonce = crypto.randomUUID();
  private readonly index: IndexSync;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.index = new IndexSync(env.DB, {
      meta: () => this.meta,
      userAttendee: (uuid) => this.userAttendee(uuid),
    });
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      this.meta = this.loadMeta();
    });
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private loadMeta(): RoomMeta | null {
    const row = this.sql.exec("SELECT * FROM meta LIMIT 1").toArray()[0];
    return row ? metaFromRow(row) : null;
  }

  private userAttendee(userUuid: string): Attendee | null {
    const row = this.sql.exec("SELECT * FROM attendees WHERE user_uuid = ?", userUuid).toArray()[0];
    return row ? attendeeFromRow(row) : null;
  }

  /** Bumps the version and persists the in-memory meta row. */
  private saveMeta(): void {
    const m = this.meta;
    if (!m) return;
    m.version += 1;
    this.sql.exec(
      `UPDATE meta SET token=?, type=?, name=?, description=?, created_by=?, password_hash=?, password_sealed=?,
         read_only=?, listable=?, lobby_state=?, lobby_timer=?, sip_enabled=?, default_permissions=?,
         call_start_time=?, call_flag=?, last_activity=?, object_type=?, object_id=?, version=? WHERE id=?`,
      m.token, m.type, m.name, m.description, m.createdBy, m.passwordHash, m.passwordSealed, m.readOnly, m.listable,
      m.lobbyState, m.lobbyTimer, m.sipEnabled, m.defaultPermissions, m.callStartTime, m.callFlag, m.lastActivity,
      m.objectType, m.objectId, m.version, m.id,
    );
    this.index.markRoom();
  }

  // -------------------------------------------------------------------------------------------
  // RPC

  async instanceNonce(): Promise<string> {
    return this.nonce;
  }

  /** Creates the room (idempotent for the same id); the owner becomes attendee type 1. */
  async create(init: RoomInit): Promise<RoomSnapshot> {
    if (!this.meta) {
      const now = nowSeconds();
      this.sql.exec(
        `INSERT INTO meta (id, token, type, name, description, created_by, created_at, password_hash, password_sealed,
           lobby_state, last_activity, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
        init.id, init.token, init.type, init.name, init.description ?? "", init.createdBy, now,
        init.passwordHash ?? null, init.passwordSealed ?? null, init.lobbyState ?? 0, now,
      );
      if (init.owner) {
        this.sql.exec(
          `INSERT INTO attendees (actor_type, actor_id, display_name, participant_type, user_uuid, created_at)
           VALUES (?, ?, ?, 1, ?, ?)`,
          init.owner.actorType, init.owner.actorId, init.owner.displayName, init.owner.userUuid ?? null, now,
        );
        this.index.markUser(init.owner.userUuid);
      }
      this.meta = this.loadMeta();
      this.saveMeta();
    }
    await this.index.flush();
    return this.snapshotNow() as RoomSnapshot;
  }

  async snapshot(): Promise<RoomSnapshot | null> {
    return this.snapshotNow();
  }

  private snapshotNow(): RoomSnapshot | null {
    if (!this.meta) return null;
    return {
      meta: { ...this.meta },
      attendees: this.sql.exec("SELECT * FROM attendees ORDER BY id").toArray().map((r) => {
        const { userUuid: _u, ...a } = attendeeFromRow(r);
        return a;
      }),
      sessions: this.sql.exec("SELECT * FROM sessions ORDER BY created_at").toArray().map(sessionFromRow),
    };
  }
}
