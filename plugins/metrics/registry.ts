import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { CONTRACT_METRICS, type ContractMetricName, type ContractMetrics } from './contract.js'

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
  const create = <K extends ContractMetricName> (name: K): ContractMetrics[K] => {
    const def = CONTRACT_METRICS[name]
    const base = { name, help: def.help, labelNames: [...def.labels], registers: [registry] }
    const metric = def.type === 'counter'
      ? new Counter(base)
      : def.type === 'gauge'
        ? new Gauge(base)
        : new Histogram({ ...base, buckets: [...bucketsMs] })
    // the label names come from the same definition the type is derived from
    return metric as ContractMetrics[K]
  }
  const metrics = {} as Record<ContractMetricName, unknown>
  for (const name of Object.keys(CONTRACT_METRICS) as ContractMetricName[]) metrics[name] = create(name)
  return { registry, metrics: metrics as ContractMetrics }
}
