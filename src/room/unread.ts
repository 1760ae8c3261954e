/** Talk's unread count, the same from the room object and from the D1 index. */

/** Talk's UNREAD_FIRST_MESSAGE: the marker of a member who has read nothing yet. */
export const UNREAD_FIRST_MESSAGE = -2;

/**
 * A member's unread messages: the comments after their marker; a member who has read nothing yet
 * (marker -2, after "mark unread" on the first message or a cleared history) has every message of
 * the chat unread, system messages included, as the reference counts them.
 */
export function unreadCount(a: { lastReadMessage: number; readCount: number }, comments: number, messages: () => number): number {
  if (a.lastReadMessage === UNREAD_FIRST_MESSAGE) return messages();
  return Math.max(0, comments - a.readCount);
}
