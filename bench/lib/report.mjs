/** Turns measured scenarios into table rows, and rows into a Markdown table. */

const METRICS = {
  rps: { label: "req/s", higherIsBetter: true },
  p50: { label: "p50 ms", higherIsBetter: false },
  p99: { label: "p99 ms", higherIsBetter: false },
};

/** Formats: rps / count (integers), p50 / p99 / ms / us (decimals), bytes (B, KiB, MiB). */
function formatValue(format, value) {
  if (!Number.isFinite(value)) return "n/a";
  if (format === "rps" || format === "count") return Math.round(value).toLocaleString("en-US");
  if (format === "bytes") {
    if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`;
    if (value >= 10 * 1024) return `${(value / 1024).toFixed(1)} KiB`;
    return `${Math.round(value).toLocaleString("en-US")} B`;
  }
  if (value >= 100) return Math.round(value).toLocaleString("en-US");
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** Whether a ratio meets its target; null when there is none. */
function judge(ratio, target) {
  if (!target) return null;
  if (!Number.isFinite(ratio)) return false;
  if (target.atLeast !== undefined) return ratio >= target.atLeast;
  return ratio <= target.atMost;
}

function describeTarget(target) {
  if (!target) return "";
  return target.atLeast !== undefined ? `≥ ${target.atLeast}×` : `≤ ${target.atMost}×`;
}

/**
 * One row per comparison: EdgeTalk's median, the baseline's median and the median of the
 * per-round ratios EdgeTalk ÷ baseline (so the ratio need not equal the quotient of the two
 * medians). `contended`: fewer than two rounds were free of other load, so the row is flagged. For req/s a ratio below 1 means EdgeTalk is slower; for latencies a ratio above 1 does.
 */
export function comparisonRows(scenario, prepared, medians, ratios, contended = false) {
  return prepared.comparisons.map((cmp) => {
    const phase = prepared.phases.find((p) => p.id === cmp.phase);
    const label = prepared.targets.find((t) => t.id === cmp.baseline)?.label ?? cmp.baseline;
    const ours = medians[cmp.phase]?.edgetalk?.[cmp.metric];
    const theirs = medians[cmp.phase]?.[cmp.baseline]?.[cmp.metric];
    const ratio = ratios[cmp.phase]?.[cmp.baseline]?.[cmp.metric];
    return {
      number: scenario.number,
      scenario: contended ? `${scenario.title} (contended machine)` : scenario.title,
      metric: `${METRICS[cmp.metric].label} (${phase.label})`,
      edgetalk: ours,
      baseline: label,
      baselineValue: theirs,
      ratio,
      target: cmp.target ?? null,
      met: judge(ratio, cmp.target),
      format: cmp.metric,
    };
  });
}

/** A row for a scenario that was not measured (not yet available, or failed). */
export function noteRow(scenario, note) {
  return { number: scenario.number, scenario: scenario.title, note };
}

export function markdownTable(rows) {
  const lines = [
    "| # | Scenario | Metric | EdgeTalk | Baseline | Baseline value | EdgeTalk ÷ baseline | Target |",
    "| --- | --- | --- | ---: | --- | ---: | ---: | --- |",
  ];
  for (const r of rows) {
    if (r.note) {
      lines.push(`| ${r.number} | ${r.scenario} | — | — | — | — | — | ${r.note} |`);
      continue;
    }
    const ratio = Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : "n/a";
    const target = r.target ? `${describeTarget(r.target)}: **${r.met ? "met" : "not met"}**` : "";
    lines.push(
      `| ${r.number} | ${r.scenario} | ${r.metric} | ${formatValue(r.format, r.edgetalk)} | ${r.baseline} | ${formatValue(r.format, r.baselineValue)} | ${ratio} | ${target} |`,
    );
  }
  return lines.join("\n");
}
