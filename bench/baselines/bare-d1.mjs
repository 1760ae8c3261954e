/**
 * Baseline: a bare D1 query. One route, bound to the same D1 database as EdgeTalk (so it reads
 * the very rows the benchmark seeded): the room index rows of one user, joined with the rooms,
 * in one SQL statement, returned as JSON. No router, no auth, no conversation objects.
 *
 *   GET /rooms?user=<login>
 */
const ROOMS_OF_USER = `SELECT r.*, m.attendee_id, m.participant_type, m.permissions, m.favorite,
    m.notification_level, m.notification_calls, m.pin
  FROM room_members m
  JOIN rooms r ON r.id = m.room_id
  WHERE m.user_id = (SELECT id FROM users WHERE userid = ?)
  ORDER BY r.serial`;

export default {
  async fetch(request, env) {
    const user = new URL(request.url).searchParams.get("user") ?? "";
    const { results } = await env.DB.prepare(ROOMS_OF_USER).bind(user).all();
    return new Response(JSON.stringify(results), { headers: { "Content-Type": "application/json" } });
  },
};
