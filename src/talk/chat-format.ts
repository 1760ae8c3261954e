/**
 * Talk's chat message objects, built from the room's dialect-neutral messages for one reader
 * (system messages read "You …" to their actor, as the reference's parser writes them). Pure: no I/O.
 */
import type { ChatActor, Mention, StoredMessage } from "../room/types";

type RichObject = { type: string; id: string; name: string; [key: string]: string };

/** Who reads: system messages and deletions speak to them as "you". */
export type Reader = { actorType: string; actorId: string };

const GUEST_TYPES = new Set(["guests", "emails"]);

/** An actor as a rich-object parameter: users by id, guests as `guest/<id>` with "(guest)" after their name. */
export function richActor(a: ChatActor): RichObject {
  if (GUEST_TYPES.has(a.type)) {
    const name = a.name === "" ? (a.type === "emails" ? a.id : "Guest") : `${a.name} (guest)`;
    return { type: "guest", id: `guest/${a.id}`, name };
  }
  if (a.type === "groups") return { type: "group", id: a.id, name: a.name };
  return { type: "user", id: a.id, name: a.name };
}

const isReader = (a: ChatActor | undefined, reader: Reader) => !!a && a.type === reader.actorType && a.id === reader.actorId;

/** `{mention-user1}`-style placeholders for the mentions a comment holds. */
function renderMentions(text: string, mentions: Mention[]): { message: string; parameters: Record<string, RichObject> } {
  const parameters: Record<string, RichObject> = {};
  const counters: Record<string, number> = {};
  let message = text;
  for (const m of mentions) {
    counters[m.type] = (counters[m.type] ?? 0) + 1;
    const key = `mention-${m.type}${counters[m.type]}`;
    const escaped = m.raw.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    message = message.replace(new RegExp(`(?<![^\\s(])@${escaped}(?![a-z0-9_\\-@.'])`, "gi"), `{${key}}`);
    if (m.type === "call") parameters[key] = { type: "call", id: m.id, name: m.name, "call-type": "group" };
    else if (m.type === "guest") parameters[key] = { type: "guest", id: m.id, name: m.name };
    else if (m.type === "group") parameters[key] = { type: "user-group", id: m.id, name: m.name };
    else parameters[key] = { type: "user", id: m.id, name: m.name };
  }
  return { message, parameters };
}

/** "Call with …" and "… ended the call with …" (the reference's parseCall), with `{userN}` parameters. */
function callSummary(subject: string, p: StoredMessage["parameters"], actor: ChatActor): { message: string; parameters: Record<string, RichObject> } {
  const everyone = subject === "call_ended_everyone";
  let users = [...((p.users as string[]) ?? [])];
  let guests = (p.guests as number) ?? 0;
  if (everyone) {
    if (GUEST_TYPES.has(actor.type)) guests = Math.max(0, guests - 1);
    else users = users.filter((u) => u !== actor.id);
  }
  users.sort();
  const guestWord = (n: number) => `${n} ${n === 1 ? "guest" : "guests"}`;
  const shown = users.length > 5 || (users.length === 5 && guests > 0) ? 4 : users.length;
  const names = users.slice(0, shown).map((_, i) => `{user${i + 1}}`);
  const rest = users.length - shown;
  const tail: string[] = [];
  if (rest > 0) tail.push(`${rest + guests} ${rest + guests === 1 ? "other" : "others"}`);
  else if (guests > 0) tail.push(guestWord(guests));
  const all = [...names, ...tail];
  const listed = all.length <= 1 ? (all[0] ?? "") : `${all.slice(0, -1).join(", ")} and ${all[all.length - 1]}`;
  const seconds = (p.duration as number) ?? 0;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const duration = h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
  const message = everyone ? `{actor} ended the call with ${listed} (Duration ${duration})` : `Call with ${listed} (Duration ${duration})`;
  const parameters: Record<string, RichObject> = {};
  users.slice(0, shown).forEach((u, i) => {
    parameters[`user${i + 1}`] = { type: "user", id: u, name: u };
  });
  return { message, parameters };
}

/** The reference's texts per subject: [for others, for the actor]; `{user}` texts also have a form for the target. */
const SIMPLE: Record<string, [string, string]> = {
  conversation_created: ["{actor} created the conversation", "You created the conversation"],
  description_set: ["{actor} set the description", "You set the description"],
  description_removed: ["{actor} removed the description", "You removed the description"],
  call_started: ["{actor} started a call", "You started a call"],
  call_started_silent: ["{actor} started a silent call", "You started a silent call"],
  call_joined: ["{actor} joined the call", "You joined the call"],
  call_left: ["{actor} left the call", "You left the call"],
  read_only_off: ["{actor} unlocked the conversation", "You unlocked the conversation"],
  read_only: ["{actor} locked the conversation", "You locked the conversation"],
  listable_none: ["{actor} limited the conversation to the current participants", "You limited the conversation to the current participants"],
  listable_users: ["{actor} opened the conversation to registered users", "You opened the conversation to registered users"],
  lobby_none: ["{actor} opened the conversation to everyone", "You opened the conversation to everyone"],
  lobby_non_moderators: ["{actor} restricted the conversation to moderators", "You restricted the conversation to moderators"],
  guests_allowed: ["{actor} allowed guests", "You allowed guests"],
  guests_disallowed: ["{actor} disallowed guests", "You disallowed guests"],
  password_set: ["{actor} set a password", "You set a password"],
  password_removed: ["{actor} removed the password", "You removed the password"],
  message_deleted: ["{actor} deleted a message", "You deleted a message"],
  message_edited: ["{actor} edited a message", "You edited a message"],
  history_cleared: ["{actor} cleared the history of the conversation", "You cleared the history of the conversation"],
};

const TARGETED: Record<string, [string, string, string]> = {
  user_added: ["{actor} added {user}", "You added {user}", "{actor} added you"],
  user_removed: ["{actor} removed {user}", "You removed {user}", "{actor} removed you"],
  moderator_promoted: ["{actor} promoted {user} to moderator", "You promoted {user} to moderator", "{actor} promoted you to moderator"],
  moderator_demoted: ["{actor} demoted {user} from moderator", "You demoted {user} from moderator", "{actor} demoted you from moderator"],
  guest_moderator_promoted: ["{actor} promoted {user} to moderator", "You promoted {user} to moderator", "{actor} promoted you to moderator"],
  guest_moderator_demoted: ["{actor} demoted {user} from moderator", "You demoted {user} from moderator", "{actor} demoted you from moderator"],
};

function systemText(m: StoredMessage, reader: Reader): { message: string; parameters: Record<string, RichObject> } {
  const p = m.parameters;
  const actor = richActor(m.actor);
  const you = isReader(m.actor, reader);
  const subject = m.message;
  // A silent call's start reads as such (the message itself is silent).
  const simple = SIMPLE[subject === "call_started" && m.silent ? "call_started_silent" : subject];
  if (simple) return { message: you ? simple[1] : simple[0], parameters: { actor } };
  const targeted = TARGETED[subject];
  if (targeted) {
    const target = p.user as ChatActor;
    const user = richActor(target);
    if (subject === "user_added" && target.type === m.actor.type && target.id === m.actor.id) {
      return { message: you ? "You joined the conversation" : "{actor} joined the conversation", parameters: { actor, user } };
    }
    if (subject === "user_removed" && target.type === m.actor.type && target.id === m.actor.id) {
      return { message: you ? "You left the conversation" : "{actor} left the conversation", parameters: { actor, user } };
    }
    return { message: you ? targeted[1] : isReader(target, reader) ? targeted[2] : targeted[0], parameters: { actor, user } };
  }
  switch (subject) {
    case "conversation_renamed": {
      const names = `from "${p.oldName as string}" to "${p.newName as string}"`;
      return { message: `${you ? "You" : "{actor}"} renamed the conversation ${names}`, parameters: { actor } };
    }
    case "listable_all":
      return {
        message: `${you ? "You" : "{actor}"} opened the conversation to registered users and users created with the Guests app`,
        parameters: { actor },
      };
    case "lobby_timer_reached":
      return { message: "The conversation is now open to everyone", parameters: { actor } };
    case "group_added":
    case "group_removed": {
      const verb = subject === "group_added" ? "added" : "removed";
      return { message: `${you ? "You" : "{actor}"} ${verb} group {group}`, parameters: { actor, group: richActor(p.group as ChatActor) } };
    }
    case "call_missed": {
      const caller = ((p.users as string[]) ?? [])[0] ?? m.actor.id;
      if (caller !== reader.actorId) return { message: "You missed a call from {user}", parameters: { user: { type: "user", id: caller, name: m.actor.name } } };
      return { message: "You tried to call {user}", parameters: { user: { type: "user", id: caller, name: m.actor.name } } };
    }
    case "call_ended":
    case "call_ended_everyone": {
      const summary = callSummary(subject, p, m.actor);
      return { message: summary.message, parameters: { actor, ...summary.parameters } };
    }
    default:
      return { message: subject, parameters: { actor } };
  }
}

/** `[]` for no parameters, as PHP encodes an empty array. */
const parametersOut = (p: Record<string, RichObject>) => (Object.keys(p).length === 0 ? [] : p);

/** One chat message as Talk's API returns it (ChatMessage; `parent` is added by the caller). */
export function talkMessage(m: StoredMessage, token: string, reader: Reader) {
  let message: string;
  let parameters: Record<string, RichObject>;
  let messageType: string = m.kind;
  let systemMessage = "";
  if (m.kind === "system") {
    ({ message, parameters } = systemText(m, reader));
    systemMessage = m.message;
  } else if (m.kind === "comment_deleted") {
    const by = m.parameters.deletedBy as ChatActor;
    const byAuthor = by.type === m.actor.type && by.id === m.actor.id;
    message = isReader(by, reader) ? "Message deleted by you" : byAuthor ? "Message deleted by author" : "Message deleted by {actor}";
    parameters = { actor: richActor(by) };
  } else {
    ({ message, parameters } = renderMentions(m.message, (m.parameters.mentions as Mention[] | undefined) ?? []));
    messageType = "comment";
  }
  const fields = {
    id: m.id,
    token,
    actorType: m.actor.type,
    actorId: m.actor.id,
    actorDisplayName: m.actor.name,
    timestamp: m.createdAt,
    message,
    messageParameters: parametersOut(parameters),
    systemMessage,
    messageType,
    isReplyable: m.kind === "comment" && REPLYABLE_ACTORS.has(m.actor.type),
    referenceId: m.referenceId,
    reactions: {},
    expirationTimestamp: 0,
    markdown: m.kind !== "system",
  };
  // The optional fields are added to the literal rather than spread into a new object: chat
  // pages and conversation lists build many of these (see conversation()).
  const out: typeof fields & MessageExtras = fields;
  if (m.lastEdit) {
    out.lastEditActorType = m.lastEdit.type;
    out.lastEditActorId = m.lastEdit.id;
    out.lastEditActorDisplayName = m.lastEdit.name;
    out.lastEditTimestamp = m.lastEdit.at;
  }
  if (m.kind === "comment_deleted") out.deleted = true;
  if (m.silent) out.silent = true;
  return out;
}

/** Actors whose comments can be replied to. */
const REPLYABLE_ACTORS = new Set(["users", "guests", "emails", "federated_users", "bots"]);

/** What a message carries only sometimes: who edited it last, its deletion, its silence. */
interface MessageExtras {
  lastEditActorType?: string;
  lastEditActorId?: string;
  lastEditActorDisplayName?: string;
  lastEditTimestamp?: number;
  deleted?: true;
  silent?: true;
}

export type TalkChatMessage = ReturnType<typeof talkMessage> & { parent?: ReturnType<typeof talkMessage> };

/** Messages with their parents (replies quote the message they answer; no nested parents). */
export function talkMessages(messages: StoredMessage[], parents: StoredMessage[], token: string, reader: Reader): TalkChatMessage[] {
  const byId = new Map(parents.map((p) => [p.id, p]));
  return messages.map((m) => {
    const out: TalkChatMessage = talkMessage(m, token, reader);
    const parent = m.parentId > 0 ? byId.get(m.parentId) : undefined;
    if (parent) out.parent = talkMessage(parent, token, reader);
    return out;
  });
}
