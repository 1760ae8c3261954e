/**
 * The scenario list, in table order. Each module's default export is
 *
 *   { id, number, title, async prepare(ctx) }
 *
 * `prepare` seeds what it needs (through ctx.admin / ctx.http, memoising shared seeds with
 * ctx.once) and resolves with either
 *
 *   { unavailable: "reason" }                      → one "not yet available" row, nothing measured
 *   { targets, phases, comparisons }               → measured by bench/run.mjs:
 *
 *   targets      [{ id, label, client(i) → state, op(state) → Promise }]: `id` is "edgetalk" or a
 *                baseline ("trivial", "bare-do", "bare-d1", …); `client` is called once per virtual
 *                client before the warm-up, `op` is one iteration of the closed loop (its requests
 *                go through ctx.http.<target>.request, which records their latencies).
 *   phases       [{ id, label, concurrency }]: each phase warms up every target, then measures
 *                every target in `repeats` interleaved windows; the median of the windows is kept.
 *   comparisons  [{ phase, metric: "rps" | "p50" | "p99", baseline, target?: { atLeast | atMost } }]:
 *                the table rows, EdgeTalk ÷ baseline, with an optional target on that ratio.
 *
 *   or, for scenarios that measure by themselves (WebSockets, memory),
 *
 *   { run(tools) → Promise<{ rows, details, contended }> }
 *                tools = { serverPid (workerd), quiet() (wait for a quiet machine before a window),
 *                contendedAt }; ctx.settings holds the window lengths and repeats, ctx.nodeBaseline(name)
 *                starts a Node server of bench/baselines on the server core ({ url, pid }).
 *                `rows` are table rows (bench/lib/custom.mjs customRow), `details` goes to results.json.
 *
 * Adding a scenario = adding a module here. The selection can be narrowed with BENCH_ONLY=id,id.
 */
import chatDelivery from "./chat-delivery.mjs";
import conversationList from "./conversation-list.mjs";
import idleMemory from "./idle-memory.mjs";
import joinStorm from "./join-storm.mjs";
import participantsList from "./participants-list.mjs";
import { joinLeaveWithAppPasswords, participantsWithAppPasswords } from "./rest-app-passwords.mjs";
import restJoinLeave from "./rest-join-leave.mjs";
import signalingFanout from "./signaling-fanout.mjs";
import talkSignaling from "./talk-signaling.mjs";

export const scenarios = [restJoinLeave, participantsList, joinLeaveWithAppPasswords, participantsWithAppPasswords, signalingFanout, joinStorm, conversationList, chatDelivery, talkSignaling, idleMemory];
