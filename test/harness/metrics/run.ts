/**
 * The metrics-contract harness (spec §5.6, §6.6; ORCH-3282, OC-METRICS-7101/7102): the whole
 * app on fake engines, the scripted workload over public HTTP, one scrape of GET /metrics,
 * then the project's lint, promtool and the non-vacuity checks, all written to the `metrics`
 * proof bundle (§6.7).
 */
import type { Test } from 'tap'
import { openSuite } from '../bundle.js'
import { startApp } from './app.js'
import { driveWorkload, type WorkloadCounts } from './workload.js'
import { analyseScrape, type Analysis } from './analysis.js'
import { classifyPromtool, runPromtool, type PromtoolReport, type PromtoolRun } from './promtool.js'

export interface MetricsContractResult {
  scrape: string
  workload: WorkloadCounts
  analysis: Analysis
  promtool: PromtoolReport
  summary: Record<string, unknown>
  bundleDir: string
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  /** the promtool binary (default `$PROMTOOL`, else `promtool` on the PATH) */
  promtool?: string
}

/** The bundle summary from the parts; pure, so the broken-scrape tests see what a run would report. */
export function summarise (analysis: Analysis, promtool: PromtoolReport, workload: WorkloadCounts, ms: number): Record<string, unknown> {
  const { unexpected, ...counts } = workload
  return {
    lint_ok: analysis.lint_ok,
    promtool_ok: promtool.promtool_ok,
    promtool_warnings: promtool.warnings.length,
    ...(promtool.promtool_ok === null ? { promtool_message: promtool.message } : {}),
    counters_moved: analysis.counters_moved,
    negative_probes_ok: analysis.probes_ok,
    value_set_warnings: analysis.value_set_warnings.length,
    samples: analysis.samples,
    families: analysis.families,
    workload: { ...counts, unexpected: unexpected.length },
    duration_ms: ms,
  }
}

export async function runMetricsContract (t: Test, o: RunOptions = {}): Promise<MetricsContractResult> {
  const started = Date.now()
  const env = o.env ?? process.env
  const bundle = await openSuite('metrics', env)
  const live = await startApp(t)
  const workload = await driveWorkload(live.client, live.engines)
  // tokens_out_total is flushed on each stream's terminal event (§5.4), all seen by now
  const url = `${live.client.base}/metrics`
  const res = await live.client.call('GET', '/metrics')
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${res.body.slice(0, 200)}`)
  const scrape = res.body
  const analysis = analyseScrape(scrape, workload, undefined, url)
  const run: PromtoolRun = runPromtool(scrape, o.promtool)
  const promtool = classifyPromtool(run)
  const summary = summarise(analysis, promtool, workload, Date.now() - started)

  await bundle.write('scrape.prom', scrape)
  await bundle.write('lint_report.json', {
    ...analysis.lint,
    movement: analysis.movement,
    value_set_warnings: analysis.value_set_warnings,
    negative_probes: analysis.probes,
  })
  await bundle.write('promtool.txt', run.available ? run.output : `${promtool.message}\n`)
  await bundle.write('promtool_report.json', promtool)
  await bundle.write('workload.json', workload)
  await bundle.narration(live.capture.records())
  await bundle.finish(summary, { env: { REQUIRE_PROMTOOL: env.REQUIRE_PROMTOOL, PROMTOOL: env.PROMTOOL } })
  return { scrape, workload, analysis, promtool, summary, bundleDir: bundle.dir }
}
