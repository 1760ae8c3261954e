/**
 * Room assets (reference §3.9, §6): bytes in R2 under `assets/<room>/<asset>`, metadata in D1.
 * Storage is accounted to the room's creator, whose tariff may cap it with the `max_storage`
 * quota (bytes). As in the reference, the quota only has to have room left when an upload
 * starts; the file itself need not fit.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { assets, events, rooms, type AssetRow } from "../db/schema";
import { tariffForUser } from "../db/tariffs";
import { OpenTalkError } from "../lib/errors";

export function assetKey(roomId: string, assetId: string): string {
  return `assets/${roomId}/${assetId}`;
}

/** Bytes stored in the assets of every room the user created. */
export async function usedStorage(db: Db, userId: string): Promise<number> {
  const row = await db
    .select({ total: sql<number>`coalesce(sum(${assets.size}), 0)` })
    .from(assets)
    .innerJoin(rooms, eq(rooms.id, assets.roomId))
    .where(eq(rooms.createdBy, userId))
    .get();
  return row?.total ?? 0;
}

/** 413 `storage_quota_exceeded` when the owner's tariff caps storage and the cap is passed. */
export async function checkStorageQuota(db: Db, ownerId: string): Promise<void> {
  const max = (await tariffForUser(db, ownerId)).quotas.max_storage;
  if (max !== undefined && (await usedStorage(db, ownerId)) > max) {
    throw new OpenTalkError(413, "storage_quota_exceeded", "The storage quota was exceeded");
  }
}

/** `kind_2020-05-03_14-16-19-UTC.ext`, prefixed with the event's title when the room has one (≤ 100 characters). */
export function assetFilename(kind: string, at: Date, extension: string, eventTitle?: string | null): string {
  const stamp = at.toISOString().slice(0, 19).replace("T", "_").replace(/:/g, "-");
  const fixed = `${kind}_${stamp}-UTC${extension ? `.${extension}` : ""}`;
  if (!eventTitle) return fixed;
  const room = Math.max(0, 100 - fixed.length - 1);
  const title = [...eventTitle.replace(/[^\p{L}\p{N} _-]/gu, "_")].slice(0, room).join("");
  return title ? `${title}_${fixed}` : fixed;
}

export async function eventTitleOfRoom(db: Db, roomId: string): Promise<string | null> {
  const row = await db.select({ title: events.title }).from(events).where(eq(events.roomId, roomId)).get();
  return row?.title ?? null;
}

export async function findRoomAsset(db: Db, roomId: string, assetId: string): Promise<AssetRow> {
  const row = await db
    .select()
    .from(assets)
    .where(and(eq(assets.roomId, roomId), eq(assets.id, assetId.toLowerCase())))
    .get();
  if (!row) throw OpenTalkError.notFound();
  return row;
}

/** The seed's Asset resource: `namespace` only when set (reference §4.10). */
export function assetResource(row: AssetRow) {
  return {
    id: row.id,
    filename: row.filename,
    ...(row.namespace ? { namespace: row.namespace } : {}),
    created_at: new Date(row.createdAt).toISOString(),
  };
}

/** A user's asset (`/v1/users/me/assets`, outside the seed): the Asset with its kind, size and room. */
export function ownedAssetResource(row: AssetRow, eventId: string | null) {
  return { ...assetResource(row), kind: row.kind, size: row.size, room_id: row.roomId, ...(eventId ? { event_id: eventId } : {}) };
}

/** R2 objects of a room's assets (their rows go with the room). */
export async function roomAssetKeys(db: Db, roomId: string): Promise<string[]> {
  const rows = await db.select({ id: assets.id }).from(assets).where(eq(assets.roomId, roomId));
  return rows.map((r) => assetKey(roomId, r.id));
}

/** Deletes the bytes of a deleted room's assets (their rows went with the room's D1 row). */
export async function deleteAssetBytes(env: Env, keys: string[]): Promise<void> {
  if (keys.length > 0) await env.ASSETS.delete(keys);
}

/** R2 multipart parts must be at least 5 MiB (but the last) and of one size: data is re-cut into these. */
export const PART_SIZE = 5 * 1024 * 1024;

/**
 * Writes a stream of chunks to R2: one plain put when everything fits in one part, otherwise a
 * multipart upload in PART_SIZE parts. Chunks must be added one after the other (awaited).
 */
export class ChunkedObjectWriter {
  private buffer = new Uint8Array(0);
  private upload: R2MultipartUpload | null = null;
  private readonly parts: R2UploadedPart[] = [];
  size = 0;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly key: string,
    private readonly contentType: string,
  ) {}

  async add(chunk: Uint8Array): Promise<void> {
    this.size += chunk.byteLength;
    const joined = new Uint8Array(this.buffer.byteLength + chunk.byteLength);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.byteLength);
    this.buffer = joined;
    while (this.buffer.byteLength > PART_SIZE) {
      this.upload ??= await this.bucket.createMultipartUpload(this.key, { httpMetadata: { contentType: this.contentType } });
      this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.buffer.slice(0, PART_SIZE)));
      this.buffer = this.buffer.slice(PART_SIZE);
    }
  }

  async finish(): Promise<void> {
    if (!this.upload) {
      await this.bucket.put(this.key, this.buffer, { httpMetadata: { contentType: this.contentType } });
      return;
    }
    if (this.buffer.byteLength > 0) this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.buffer));
    await this.upload.complete(this.parts);
  }

  async abort(): Promise<void> {
    if (this.upload) await this.upload.abort();
  }
}
