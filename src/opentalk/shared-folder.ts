/**
 * Event shared folders (reference §3.7) on the configured Nextcloud server: a WebDAV folder per
 * event and two password-protected public links to it, one read-only and one read-write. Without
 * a configuration nothing is faked: creating one answers 400 "No shared folder configured".
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { eventSharedFolders, type EventRow, type SharedFolderRow } from "../db/schema";
import { config } from "../lib/config";
import { ALNUM, randomString } from "../lib/crypto";
import { OpenTalkError } from "../lib/errors";

/** Nextcloud share permissions: read (1); read + update + create + delete (1|2|4|8). */
const READ = 1;
const READ_WRITE = 15;
/** Public link shares. */
const SHARE_TYPE_LINK = 3;

export function sharedFolderConfigured(env: Env): boolean {
  const cfg = config(env).sharedFolder;
  return Boolean(cfg.url && cfg.user);
}

function remoteFailure(what: string): OpenTalkError {
  return new OpenTalkError(500, "internal_server_error", `The shared folder could not be ${what} on the remote system`);
}

/** A request to the remote system; a network failure is a remote failure too. */
async function remote(what: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw remoteFailure(what);
  }
}

function client(env: Env) {
  const cfg = config(env).sharedFolder;
  const auth = `Basic ${btoa(`${cfg.user}:${cfg.password}`)}`;
  const dav = (path: string) => `${cfg.url}/remote.php/dav/files/${encodeURIComponent(cfg.user)}/${path.split("/").map(encodeURIComponent).join("/")}`;
  const shares = `${cfg.url}/ocs/v2.php/apps/files_sharing/api/v1/shares`;
  const ocsHeaders = { Authorization: auth, "OCS-APIRequest": "true", Accept: "application/json" };
  return {
    directory: cfg.directory,
    async mkcol(path: string): Promise<void> {
      const res = await remote("created", dav(path), { method: "MKCOL", headers: { Authorization: auth } });
      // 405: the collection exists already.
      if (!res.ok && res.status !== 405) throw remoteFailure("created");
    },
    async remove(path: string): Promise<boolean> {
      const res = await remote("deleted", dav(path), { method: "DELETE", headers: { Authorization: auth } });
      return res.ok || res.status === 404;
    },
    async share(path: string, permissions: number, password: string): Promise<{ id: string; url: string }> {
      const body = new URLSearchParams({ path: `/${path}`, shareType: String(SHARE_TYPE_LINK), permissions: String(permissions), password });
      const res = await remote("shared", shares, { method: "POST", headers: { ...ocsHeaders, "Content-Type": "application/x-www-form-urlencoded" }, body });
      const reply = res.ok ? ((await res.json().catch(() => null)) as { ocs?: { data?: { id?: string | number; url?: string } } } | null) : null;
      const data = reply?.ocs?.data;
      if (!data?.id || !data.url) throw remoteFailure("shared");
      return { id: String(data.id), url: data.url };
    },
    async unshare(id: string): Promise<boolean> {
      const res = await remote("deleted", `${shares}/${encodeURIComponent(id)}`, { method: "DELETE", headers: ocsHeaders });
      return res.ok || res.status === 404;
    },
  };
}

export async function findSharedFolder(db: Db, eventId: string): Promise<SharedFolderRow | undefined> {
  return db.select().from(eventSharedFolders).where(eq(eventSharedFolders.eventId, eventId)).get();
}

/** Creates the folder and its links; returns the row and whether it was new. */
export async function createSharedFolder(env: Env, db: Db, ev: EventRow): Promise<{ folder: SharedFolderRow; created: boolean }> {
  const existing = await findSharedFolder(db, ev.id);
  if (existing) return { folder: existing, created: false };
  if (!sharedFolderConfigured(env)) throw OpenTalkError.badRequest("No shared folder configured for this server");
  const nc = client(env);
  const day = new Date(ev.startsAt ?? ev.createdAt).toISOString().slice(0, 10);
  const name = `${day}-${ev.title.replace(/[^\p{L}\p{N} _-]+/gu, "").trim().slice(0, 60)}-${ev.id}`;
  const path = `${nc.directory}/${name}`;
  await nc.mkcol(nc.directory);
  await nc.mkcol(path);
  const readPassword = randomString(20, ALNUM);
  const writePassword = randomString(20, ALNUM);
  const read = await nc.share(path, READ, readPassword);
  const write = await nc.share(path, READ_WRITE, writePassword);
  const now = Date.now();
  const folder: SharedFolderRow = {
    eventId: ev.id,
    path,
    readShareId: read.id,
    readUrl: read.url,
    readPassword,
    writeShareId: write.id,
    writeUrl: write.url,
    writePassword,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(eventSharedFolders).values(folder);
  return { folder, created: true };
}

/**
 * Removes the links and the folder, then the row. A remote failure is a 500 unless `force`
 * (the reference's force_delete_reference_if_shared_folder_deletion_fails), which drops the row anyway.
 */
export async function deleteSharedFolder(env: Env, db: Db, ev: EventRow, force: boolean): Promise<void> {
  const folder = await findSharedFolder(db, ev.id);
  if (!folder) return;
  let removed = false;
  if (sharedFolderConfigured(env)) {
    const nc = client(env);
    try {
      const unshared = (await nc.unshare(folder.readShareId)) && (await nc.unshare(folder.writeShareId));
      removed = unshared && (await nc.remove(folder.path));
    } catch {
      removed = false;
    }
  }
  if (!removed && !force) throw remoteFailure("deleted");
  await db.delete(eventSharedFolders).where(eq(eventSharedFolders.eventId, ev.id));
}
