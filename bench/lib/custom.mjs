/**
 * Helpers for scenarios that measure by themselves (`run` in bench/scenarios/index.mjs): the
 * per-round bookkeeping of bench/run.mjs (median of the windows per target, median of the
 * per-round ratios per baseline, contended rounds flagged) for arbitrary metrics, and table rows.
 */
import { machineBusySeconds, processCpuSeconds } from "./measure.mjs";
import { median } from "./stats.mjs";

/**
 * CPU bookkeeping for one window: start() … stop() → { seconds, serverCpu, otherCpu } where
 * serverCpu is the CPU seconds of `pids` (the server processes) and otherCpu the share of a core
 * used by everything but them and this process (as in measure.mjs).
 */
export function cpuWindow(pids) {
  const list = pids.filter(Boolean);
  const srv = () => list.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? Number.NaN), 0);
  const t0 = performance.now();
  const own0 = process.cpuUsage();
  const srv0 = srv();
  const all0 = machineBusySeconds();
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      const own = process.cpuUsage(own0);
      const loadSeconds = (own.user + own.system) / 1e6;
      const serverSeconds = srv() - srv0;
      const all1 = machineBusySeconds();
      const otherCpu = all0 === null || all1 === null || !Number.isFinite(serverSeconds) ? null : Math.max(0, (all1 - all0 - serverSeconds - loadSeconds) / seconds);
      return { seconds, serverSeconds, serverCpu: serverSeconds / seconds, loadCpu: loadSeconds / seconds, otherCpu };
    },
  };
}

/**
 * rounds: [{ <targetId>: { <metric>: value, otherCpu } }]. Uses the clean rounds (no window with
 * another process at ≥ contendedAt of a core) when at least two exist, otherwise all of them.
 * Returns { medians: {target: {metric}}, ratios: {baseline: {metric}}, contended }.
 */
export function summarize(rounds, metrics, contendedAt) {
  const clean = rounds.filter((round) => Object.values(round).every((w) => !(w.otherCpu >= contendedAt)));
  const used = clean.length >= 2 ? clean : rounds;
  const targets = Object.keys(rounds[0] ?? {});
  const medians = {};
  const ratios = {};
  for (const t of targets) {
    medians[t] = {};
    for (const m of metrics) medians[t][m] = median(used.map((r) => r[t]?.[m] ?? Number.NaN));
    if (t === "edgetalk") continue;
    ratios[t] = {};
    for (const m of metrics) ratios[t][m] = median(used.map((r) => (r.edgetalk?.[m] ?? Number.NaN) / (r[t]?.[m] ?? Number.NaN)));
  }
  return { medians, ratios, contended: clean.length < 2 };
}

/** A table row (see report.mjs) for a custom metric; `format` is one of report.mjs's formats. */
export function customRow(scenario, { title, metric, format, summary, baseline, label, target = null }) {
  const ratio = summary.ratios[baseline]?.[metric.key];
  return {
    number: scenario.number,
    scenario: summary.contended ? `${title} (contended machine)` : title,
    metric: metric.label,
    edgetalk: summary.medians.edgetalk?.[metric.key],
    baseline: label,
    baselineValue: summary.medians[baseline]?.[metric.key],
    ratio,
    target,
    met: target ? Number.isFinite(ratio) && (target.atLeast !== undefined ? ratio >= target.atLeast : ratio <= target.atMost) : null,
    format,
  };
}
