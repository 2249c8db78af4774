import { readFileSync } from 'node:fs'
import type { Counter, Gauge, Histogram } from 'prom-client'
import { fromRoot } from '../../lib/package-root.js'

export type MetricType = 'counter' | 'gauge' | 'histogram'

const TASK = ['engine', 'engine_version', 'pool_id', 'replica_id', 'priority'] as const
const POOL_PRIORITY = ['engine', 'engine_version', 'pool_id', 'priority'] as const
const REPLICA = ['engine', 'engine_version', 'pool_id', 'replica_id'] as const
const DEVICE = ['engine', 'engine_version', 'pool_id', 'replica_id', 'device'] as const

/**
 * The metrics contract (spec adapters-observability-testing.md §5, decision 15) as the code
 * sees it. `specs/metrics.lint.json` is the published form; a test keeps the two identical.
 * Names and label sets are a contract: changing one is a breaking change.
 */
export const CONTRACT_METRICS = {
  tasks_enqueued_total: { type: 'counter', labels: TASK, help: 'Tasks admitted into a pool queue.' },
  tasks_started_total: { type: 'counter', labels: TASK, help: 'Tasks dispatched to an engine (adapter reported started).' },
  tasks_canceled_total: { type: 'counter', labels: [...REPLICA, 'reason'], help: 'Tasks canceled, by reason (client, watchdog, deadline).' },
  tasks_rejected_total: { type: 'counter', labels: ['engine', 'reason'], help: 'Tasks rejected at admission or dropped from a queue, by ErrorKind.' },
  queue_depth: { type: 'gauge', labels: POOL_PRIORITY, help: 'Tasks waiting in a pool queue.' },
  kv_cache_usage_ratio: { type: 'gauge', labels: REPLICA, help: 'KV cache usage reported by the engine, 0..1.' },
  gpu_utilization: { type: 'gauge', labels: DEVICE, help: 'GPU utilization in percent.' },
  vram_used_bytes: { type: 'gauge', labels: DEVICE, help: 'GPU memory in use, bytes.' },
  latency_first_token_ms: { type: 'histogram', labels: POOL_PRIORITY, help: 'Admission to first token, milliseconds.' },
  latency_decode_ms: { type: 'histogram', labels: POOL_PRIORITY, help: 'First token to the end of the stream, milliseconds.' },
  tokens_in_total: { type: 'counter', labels: REPLICA, help: 'Prompt tokens processed.' },
  tokens_out_total: { type: 'counter', labels: REPLICA, help: 'Tokens generated and streamed.' },
  admission_backpressure_events_total: { type: 'counter', labels: ['engine', 'policy'], help: 'Backpressure answers (429), by queue policy.' },
  catalog_verifications_total: { type: 'counter', labels: ['result', 'reason', 'engine'], help: 'Model digest verifications, by result.' },
  model_state: { type: 'gauge', labels: ['model_id', 'state'], help: 'Lifecycle state of a catalog model (1 = in this state).' },
} as const satisfies Record<string, { type: MetricType, labels: readonly string[], help: string }>

export const LABEL_BUDGETS = {
  engine: 4,
  engine_version: 64,
  pool_id: 256,
  replica_id: 1024,
  priority: 8,
  reason: 16,
  result: 4,
  state: 8,
  model_id: 1024,
  device: 16,
  policy: 4,
} as const

/** Families outside the contract that a scrape may carry without a warning. */
export const ALLOWED_PREFIXES = ['process_', 'nodejs_'] as const

type Defs = typeof CONTRACT_METRICS
type Labels<K extends keyof Defs> = Defs[K]['labels'][number]
type MetricOf<K extends keyof Defs> =
  Defs[K]['type'] extends 'counter' ? Counter<Labels<K>>
    : Defs[K]['type'] extends 'gauge' ? Gauge<Labels<K>>
      : Histogram<Labels<K>>

/** One typed prom-client metric per contract entry. */
export type ContractMetrics = { [K in keyof Defs]: MetricOf<K> }
export type ContractMetricName = keyof Defs

export interface MetricsContract {
  schema_version: number
  required_metrics: Array<{ name: string, type: MetricType, labels: string[], help: string }>
  label_cardinality_budget: Record<string, number>
  allowed_unlisted_prefixes: string[]
}

/** The contract in its published JSON form. */
export function contractDocument (): MetricsContract {
  return {
    schema_version: 1,
    required_metrics: Object.entries(CONTRACT_METRICS).map(([name, d]) => ({ name, type: d.type, labels: [...d.labels], help: d.help })),
    label_cardinality_budget: { ...LABEL_BUDGETS },
    allowed_unlisted_prefixes: [...ALLOWED_PREFIXES],
  }
}

export const CONTRACT_FILE = fromRoot('specs', 'metrics.lint.json')

export function readContract (file = CONTRACT_FILE): MetricsContract {
  return JSON.parse(readFileSync(file, 'utf8')) as MetricsContract
}

/**
 * Static checks of a contract file (spec §5.6 step 1): names unique, every budget > 0,
 * every label of every metric budgeted, `tasks_rejected_total` exactly {engine, reason}.
 */
export function contractProblems (c: MetricsContract): string[] {
  const problems: string[] = []
  if (!Array.isArray(c.required_metrics) || typeof c.label_cardinality_budget !== 'object') {
    return ['the contract needs `required_metrics` (array) and `label_cardinality_budget` (object)']
  }
  const seen = new Set<string>()
  for (const m of c.required_metrics) {
    if (seen.has(m.name)) problems.push(`metric ${m.name} is listed twice`)
    seen.add(m.name)
    if (!['counter', 'gauge', 'histogram'].includes(m.type)) problems.push(`metric ${m.name} has unknown type ${m.type}`)
    for (const label of m.labels) {
      if (!(label in c.label_cardinality_budget)) problems.push(`label ${label} of ${m.name} has no cardinality budget`)
    }
  }
  for (const [label, budget] of Object.entries(c.label_cardinality_budget)) {
    if (!(Number.isInteger(budget) && budget > 0)) problems.push(`budget of label ${label} must be a positive integer`)
  }
  if (c.required_metrics.some((m) => m.name === 'tasks_rejected_total' && [...m.labels].sort().join(',') !== 'engine,reason')) {
    problems.push('tasks_rejected_total must have exactly the labels engine and reason')
  }
  return problems
}
