import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { CONTRACT_METRICS, type ContractMetrics } from './contract.js'

export interface ContractRegistry {
  registry: Registry
  metrics: ContractMetrics
}

/**
 * Creates every contract metric up front, on a registry of its own, with fixed label
 * names (ORCH-3460). Nothing is observed here: a metric with labels has no sample until
 * real traffic sets one, so a fresh scrape shows `# TYPE` lines and no invented values.
 */
export function createContractRegistry (bucketsMs: number[]): ContractRegistry {
  const registry = new Registry()
  const metrics: Record<string, Counter | Gauge | Histogram> = {}
  for (const [name, def] of Object.entries(CONTRACT_METRICS)) {
    const base = { name, help: def.help, labelNames: [...def.labels], registers: [registry] }
    metrics[name] = def.type === 'counter'
      ? new Counter(base)
      : def.type === 'gauge'
        ? new Gauge(base)
        : new Histogram({ ...base, buckets: [...bucketsMs] })
  }
  return { registry, metrics: metrics as unknown as ContractMetrics }
}
