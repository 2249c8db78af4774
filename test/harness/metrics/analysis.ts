/**
 * What the harness concludes from one scrape (spec §5.6, §6.6; ORCH-3282, OC-METRICS-7101/7102):
 * pure functions over the scrape text, so a test can feed them a broken scrape on purpose.
 * - the project's own lint (`lintScrape`) against specs/metrics.lint.json;
 * - that the traffic really moved the counters, so a passing lint is not vacuous;
 * - the §5.1 value sets, which the lint does not check (reported as warnings);
 * - the negative tests of §5.6/§6.6 replayed on the live scrape: an extra label, a renamed
 *   label, a wrong type, a missing metric and one engine over its budget must each fail the lint.
 */
import { familyOf, parseExposition } from '../../../plugins/metrics/exposition.js'
import { lintScrape, type LintReport } from '../../../plugins/metrics/lint.js'
import { readContract, type MetricsContract } from '../../../plugins/metrics/contract.js'
import type { WorkloadCounts } from './workload.js'

/** Sum of the samples named `sample` whose labels include `match`. */
export function sumOf (text: string, sample: string, match: Record<string, string> = {}): number {
  return parseExposition(text).samples
    .filter((s) => s.name === sample && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0)
}

const seriesOf = (text: string, sample: string): number => parseExposition(text).samples.filter((s) => s.name === sample).length

export interface Movement { check: string, value: number, min: number, ok: boolean }

/** Each counter the workload drove is at least what the workload saw answered (and > 0). */
export function movement (text: string, w: WorkloadCounts): Movement[] {
  const streams = w.native_streams + w.native_202_streams + w.openai_completions + w.openai_chats
  const rows: Array<[string, number, number]> = [
    ['tasks_enqueued_total{priority="interactive"}', sumOf(text, 'tasks_enqueued_total', { priority: 'interactive' }), 1],
    ['tasks_enqueued_total{priority="batch"}', sumOf(text, 'tasks_enqueued_total', { priority: 'batch' }), 1],
    ['tasks_started_total', sumOf(text, 'tasks_started_total'), streams],
    ['tasks_canceled_total{reason="client"}', sumOf(text, 'tasks_canceled_total', { reason: 'client' }), w.cancels],
    ['tasks_rejected_total{reason="ADMISSION_REJECT"}', sumOf(text, 'tasks_rejected_total', { reason: 'ADMISSION_REJECT' }), w.rejected_429],
    ['tasks_rejected_total{reason="INVALID_PARAMS"}', sumOf(text, 'tasks_rejected_total', { reason: 'INVALID_PARAMS' }), w.rejected_400],
    ['admission_backpressure_events_total{policy="reject"}', sumOf(text, 'admission_backpressure_events_total', { policy: 'reject' }), w.rejected_429],
    ['tokens_in_total', sumOf(text, 'tokens_in_total'), 1],
    ['tokens_out_total', sumOf(text, 'tokens_out_total'), streams],
    ['latency_first_token_ms_count', sumOf(text, 'latency_first_token_ms_count'), streams],
    ['latency_decode_ms_count', sumOf(text, 'latency_decode_ms_count'), streams],
    ['catalog_verifications_total', sumOf(text, 'catalog_verifications_total'), w.catalog_verifications],
    ['model_state{state="Active"}', sumOf(text, 'model_state', { state: 'Active' }), 1],
    ['queue_depth series', seriesOf(text, 'queue_depth'), 1],
    ['kv_cache_usage_ratio series', seriesOf(text, 'kv_cache_usage_ratio'), 1],
    ['distinct engine values on tasks_started_total', distinctValues(text, 'tasks_started_total', 'engine'), 2],
  ]
  return rows.map(([check, value, min]) => ({ check, value, min: Math.max(1, min), ok: value >= Math.max(1, min) }))
}

function distinctValues (text: string, sample: string, label: string): number {
  return new Set(parseExposition(text).samples.filter((s) => s.name === sample).map((s) => s.labels[label])).size
}

/** The value sets of spec §5.1 (and §8 D3's public engine enum for `engine`). */
const VALUE_SETS: Array<{ metric: string, label: string, values: string[] }> = [
  { metric: 'tasks_canceled_total', label: 'reason', values: ['client', 'watchdog', 'deadline'] },
  {
    metric: 'tasks_rejected_total',
    label: 'reason',
    values: ['ADMISSION_REJECT', 'QUEUE_FULL_DROP_LRU', 'INVALID_PARAMS', 'POOL_UNREADY', 'POOL_UNAVAILABLE', 'REPLICA_EXHAUSTED'],
  },
  { metric: 'admission_backpressure_events_total', label: 'policy', values: ['reject', 'drop-lru', 'shed-low-priority'] },
  { metric: 'catalog_verifications_total', label: 'result', values: ['pass', 'fail'] },
  { metric: 'model_state', label: 'state', values: ['Active', 'Retired'] },
  ...['tasks_started_total', 'tokens_out_total', 'catalog_verifications_total'].map((metric) =>
    ({ metric, label: 'engine', values: ['llamacpp', 'vllm', 'tgi', 'triton'] })),
]

/** Label values outside the §5.1 sets, one line each (warnings: project docs extend some sets). */
export function valueSetFindings (text: string): string[] {
  const { samples } = parseExposition(text)
  const out = new Set<string>()
  for (const v of VALUE_SETS) {
    for (const s of samples.filter((x) => x.name === v.metric)) {
      const value = s.labels[v.label]
      if (value !== undefined && !v.values.includes(value)) out.add(`${v.metric}{${v.label}="${value}"} is outside the §5.1 set {${v.values.join(',')}}`)
    }
  }
  return [...out]
}

/** Number of samples, and of families (typed or not; histogram parts folded into theirs). */
export function figures (text: string): { samples: number, families: number } {
  const { types, samples } = parseExposition(text)
  return { samples: samples.length, families: new Set([...types.keys(), ...samples.map((s) => familyOf(s.name, types))]).size }
}

// ---- deliberate breakage, for the negative tests ----

const sampleLine = (metric: string) => new RegExp(`^(${metric}(?:_bucket|_sum|_count)?)\\{`, 'gm')

/** Adds `extra="x"` to every sample of `metric`. */
export const withExtraLabel = (text: string, metric: string): string => text.replace(sampleLine(metric), '$1{extra="x",')
/** Renames label `from` to `to` on every sample of `metric`. */
export const withRenamedLabel = (text: string, metric: string, from: string, to: string): string =>
  text.split('\n').map((l) => sampleLine(metric).test(l) ? l.replace(new RegExp(`([{,])${from}=`), `$1${to}=`) : l).join('\n')
/** Declares `metric` with another type. */
export const withType = (text: string, metric: string, type: string): string =>
  text.replace(new RegExp(`^# TYPE ${metric} \\S+$`, 'm'), `# TYPE ${metric} ${type}`)
/** Drops every line of `metric` (HELP, TYPE, samples). */
export const without = (text: string, metric: string): string =>
  text.split('\n').filter((l) => !new RegExp(`^(# (HELP|TYPE) )?${metric}(_bucket|_sum|_count)?[ {]`).test(l)).join('\n')
/** Adds rejections from made-up engines until `engine` has one value more than its budget. */
export function withEngineOverBudget (text: string, budget: number): string {
  const have = new Set(parseExposition(text).samples.map((s) => s.labels.engine).filter((e) => e !== undefined))
  const extra: string[] = []
  for (let i = 0; have.size + extra.length <= budget; i++) {
    if (!have.has(`fake${i}`)) extra.push(`tasks_rejected_total{engine="fake${i}",reason="INVALID_PARAMS"} 1`)
  }
  // after the family's own TYPE line, so the samples are in the family
  return text.replace(/^(# TYPE tasks_rejected_total counter)$/m, `$1\n${extra.join('\n')}`)
}

export interface Probe { probe: string, expect: string, fired: boolean }

/** The negative tests of §5.6 on the live scrape: each breakage must make the lint fail for its own reason. */
export function negativeProbes (text: string, contract: MetricsContract = readContract()): Probe[] {
  const lint = (t: string): LintReport => lintScrape(t, contract)
  const probes: Array<[string, string, () => boolean]> = [
    ['extra label on tasks_started_total', 'label_mismatch', () =>
      lint(withExtraLabel(text, 'tasks_started_total')).label_mismatch.some((l) => l.metric === 'tasks_started_total' && l.found.includes('extra'))],
    ['pool_id renamed to pool on tokens_out_total', 'label_mismatch', () =>
      lint(withRenamedLabel(text, 'tokens_out_total', 'pool_id', 'pool')).label_mismatch
        .some((l) => l.metric === 'tokens_out_total' && l.found.includes('pool'))],
    ['queue_depth declared a counter', 'type_mismatch', () =>
      lint(withType(text, 'queue_depth', 'counter')).type_mismatch.some((m) => m.metric === 'queue_depth' && m.found === 'counter')],
    ['model_state missing', 'missing', () => lint(without(text, 'model_state')).missing.includes('model_state')],
    ['one engine value over its budget', 'budget_violation', () =>
      lint(withEngineOverBudget(text, contract.label_cardinality_budget.engine!)).budget_violation.some((b) => b.label === 'engine')],
  ]
  return probes.map(([probe, expect, fired]) => ({ probe, expect, fired: fired() }))
}

export interface Analysis {
  lint: LintReport
  lint_ok: boolean
  movement: Movement[]
  counters_moved: boolean
  value_set_warnings: string[]
  probes: Probe[]
  /** every probe fired on this scrape, and the lint passed it unbroken */
  probes_ok: boolean
  samples: number
  families: number
}

export function analyseScrape (text: string, w: WorkloadCounts, contract: MetricsContract = readContract(), url: string | null = null): Analysis {
  const lint = lintScrape(text, contract, url)
  const moved = movement(text, w)
  const probes = negativeProbes(text, contract)
  return {
    lint,
    lint_ok: lint.ok,
    movement: moved,
    counters_moved: moved.every((m) => m.ok),
    value_set_warnings: valueSetFindings(text),
    probes,
    probes_ok: lint.ok && probes.every((p) => p.fired),
    ...figures(text),
  }
}
