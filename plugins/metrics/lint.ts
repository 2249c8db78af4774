import { request } from 'undici'
import { ORC_ERR_METRICS_SCRAPE } from './errors.js'
import { familyOf, parseExposition, type Sample } from './exposition.js'
import { contractProblems, readContract, type MetricsContract } from './contract.js'

/** The lint report of spec §5.6 step 7 (plus parse and histogram checks). */
export interface LintReport {
  scrape_url: string | null
  metrics_checked: number
  missing: string[]
  type_mismatch: Array<{ metric: string, expected: string, found: string }>
  label_mismatch: Array<{ metric: string, expected: string[], found: string[] }>
  budget_violation: Array<{ label: string, budget: number, distinct: number }>
  unbudgeted_label: Array<{ metric: string, label: string }>
  histogram_mismatch: Array<{ metric: string, labels: Record<string, string>, problem: string }>
  parse_errors: string[]
  contract_problems: string[]
  /** warnings only: families outside the contract and its allow-list */
  unknown_metric: string[]
  ok: boolean
}

const ERROR_LISTS = ['missing', 'type_mismatch', 'label_mismatch', 'budget_violation', 'unbudgeted_label',
  'histogram_mismatch', 'parse_errors', 'contract_problems'] as const

/** Checks one scrape body against the contract: names, types, exact label sets, budgets. */
export function lintScrape (text: string, contract: MetricsContract = readContract(), scrapeUrl: string | null = null): LintReport {
  const { types, samples, errors } = parseExposition(text)
  const report: LintReport = {
    scrape_url: scrapeUrl,
    metrics_checked: contract.required_metrics.length,
    missing: [],
    type_mismatch: [],
    label_mismatch: [],
    budget_violation: [],
    unbudgeted_label: [],
    histogram_mismatch: [],
    parse_errors: errors,
    contract_problems: contractProblems(contract),
    unknown_metric: [],
    ok: false,
  }
  const byFamily = new Map<string, Sample[]>()
  for (const s of samples) {
    const family = familyOf(s.name, types)
    byFamily.set(family, [...(byFamily.get(family) ?? []), s])
  }
  const distinct = new Map<string, Set<string>>()
  const required = new Map(contract.required_metrics.map((m) => [m.name, m]))
  for (const m of contract.required_metrics) {
    const found = types.get(m.name)
    if (found === undefined) { report.missing.push(m.name); continue }
    if (found !== m.type) report.type_mismatch.push({ metric: m.name, expected: m.type, found })
    const expected = [...m.labels].sort()
    const mismatched = new Set<string>()
    for (const s of byFamily.get(m.name) ?? []) {
      const keys = Object.keys(s.labels).filter((k) => !(k === 'le' && s.name.endsWith('_bucket'))).sort()
      const signature = keys.join(',')
      if (signature !== expected.join(',') && !mismatched.has(signature)) {
        mismatched.add(signature)
        report.label_mismatch.push({ metric: m.name, expected, found: keys })
      }
      for (const k of keys) {
        if (!(k in contract.label_cardinality_budget)) {
          if (!report.unbudgeted_label.some((u) => u.metric === m.name && u.label === k)) report.unbudgeted_label.push({ metric: m.name, label: k })
          continue
        }
        const values = distinct.get(k) ?? new Set<string>()
        values.add(s.labels[k]!)
        distinct.set(k, values)
      }
    }
    if (m.type === 'histogram') report.histogram_mismatch.push(...histogramProblems(m.name, byFamily.get(m.name) ?? []))
  }
  for (const [label, values] of distinct) {
    const budget = contract.label_cardinality_budget[label]!
    if (values.size > budget) report.budget_violation.push({ label, budget, distinct: values.size })
  }
  for (const family of new Set([...types.keys(), ...byFamily.keys()])) {
    if (!required.has(family) && !contract.allowed_unlisted_prefixes.some((p) => family.startsWith(p))) report.unknown_metric.push(family)
  }
  report.ok = ERROR_LISTS.every((k) => report[k].length === 0)
  return report
}

/** Buckets must be cumulative: non-decreasing in `le`, and `+Inf` equal to `_count` (spec §5.3). */
function histogramProblems (metric: string, samples: Sample[]): LintReport['histogram_mismatch'] {
  const series = new Map<string, { labels: Record<string, string>, buckets: Array<[number, number]>, count?: number }>()
  for (const s of samples) {
    const { le, ...labels } = s.labels
    const key = JSON.stringify(Object.entries(labels).sort())
    const entry = series.get(key) ?? { labels, buckets: [] }
    series.set(key, entry)
    if (s.name === `${metric}_bucket` && le !== undefined) entry.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value])
    if (s.name === `${metric}_count`) entry.count = s.value
  }
  const problems: LintReport['histogram_mismatch'] = []
  for (const { labels, buckets, count } of series.values()) {
    buckets.sort((a, b) => a[0] - b[0])
    if (buckets.some(([, v], i) => i > 0 && v < buckets[i - 1]![1])) {
      problems.push({ metric, labels, problem: 'bucket counts decrease as le grows (buckets must be cumulative)' })
    }
    const inf = buckets.find(([le]) => le === Infinity)
    if (inf === undefined) problems.push({ metric, labels, problem: 'no le="+Inf" bucket' })
    else if (count !== undefined && inf[1] !== count) problems.push({ metric, labels, problem: `le="+Inf" bucket (${inf[1]}) differs from _count (${count})` })
  }
  return problems
}

/** Scrapes `url` and lints it. */
export async function lintUrl (url: string, contract: MetricsContract = readContract()): Promise<LintReport> {
  const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 })
  const body = await res.body.text()
  if (res.statusCode !== 200) throw new ORC_ERR_METRICS_SCRAPE(url, res.statusCode)
  return lintScrape(body, contract, url)
}

/** One line per problem, then a verdict line. */
export function formatLintReport (r: LintReport): string[] {
  const lines = [
    ...r.contract_problems.map((p) => `contract: ${p}`),
    ...r.parse_errors.map((p) => `parse error: ${p}`),
    ...r.missing.map((m) => `missing: ${m} has no # TYPE line`),
    ...r.type_mismatch.map((t) => `type mismatch: ${t.metric} is a ${t.found}, the contract says ${t.expected}`),
    ...r.label_mismatch.map((l) => `label mismatch: ${l.metric} has labels {${l.found.join(',')}}, the contract says {${l.expected.join(',')}}`),
    ...r.budget_violation.map((b) => `budget violation: label ${b.label} has ${b.distinct} distinct values, budget ${b.budget}`),
    ...r.unbudgeted_label.map((u) => `unbudgeted label: ${u.label} on ${u.metric}`),
    ...r.histogram_mismatch.map((h) => `histogram: ${h.metric}${JSON.stringify(h.labels)}: ${h.problem}`),
    ...r.unknown_metric.map((u) => `warning: ${u} is not in the contract`),
  ]
  const failures = ERROR_LISTS.reduce((n, k) => n + r[k].length, 0)
  lines.push(r.ok
    ? `metrics lint: OK (${r.metrics_checked} contract metrics checked${r.scrape_url ? ` at ${r.scrape_url}` : ''})`
    : `metrics lint: FAILED (${failures} problem${failures === 1 ? '' : 's'})`)
  return lines
}
