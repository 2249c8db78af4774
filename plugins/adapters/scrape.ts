import type { Gauge } from 'prom-client'
import type { Binding } from './binding.js'

/** The contract gauges an engine scrape feeds (spec §5.4); task counters belong to the data plane. */
export interface ScrapeMetrics {
  kv_cache_usage_ratio: Gauge<string>
  gpu_utilization: Gauge<string>
  vram_used_bytes: Gauge<string>
}

type Say = (fields: Record<string, unknown> & { action: string, target: string }, human: string, level?: 'debug' | 'info' | 'warn' | 'error') => void

/**
 * Maps each adapter's `scrapeMetrics()` to `kv_cache_usage_ratio` (and Triton's GPU gauges),
 * labelled by replica; removes a replica's series when it is unbound, so no stale sample
 * stays. A failing scrape is narrated once until it works again, never invented.
 */
export function createScraper (metrics: ScrapeMetrics | undefined, say: Say) {
  const series = new Map<string, Array<[Gauge<string>, Record<string, string>]>>()
  const failing = new Set<string>()
  const key = (p: string, r: string): string => `${p}\u0000${r}`

  const forget = (poolId: string, replicaId: string): void => {
    for (const [g, labels] of series.get(key(poolId, replicaId)) ?? []) g.remove(labels)
    series.delete(key(poolId, replicaId))
  }

  const scrapeOne = async (poolId: string, replicaId: string, b: Binding): Promise<void> => {
    if (!metrics || !b.adapter.scrapeMetrics) return
    const k = key(poolId, replicaId)
    try {
      const snap = await b.adapter.scrapeMetrics()
      forget(poolId, replicaId)
      const base = { engine: b.adapter.engine, engine_version: b.engineVersion ?? 'unknown', pool_id: poolId, replica_id: replicaId }
      const set: Array<[Gauge<string>, Record<string, string>]> = []
      if (snap.kv_cache_usage_ratio !== undefined) set.push([metrics.kv_cache_usage_ratio, base])
      for (const gpu of snap.gpus ?? []) {
        const labels = { ...base, device: gpu.device }
        if (gpu.utilization_percent !== undefined) {
          metrics.gpu_utilization.labels(labels).set(gpu.utilization_percent)
          set.push([metrics.gpu_utilization, labels])
        }
        if (gpu.vram_used_bytes !== undefined) {
          metrics.vram_used_bytes.labels(labels).set(gpu.vram_used_bytes)
          set.push([metrics.vram_used_bytes, labels])
        }
      }
      if (snap.kv_cache_usage_ratio !== undefined) metrics.kv_cache_usage_ratio.labels(base).set(snap.kv_cache_usage_ratio)
      series.set(k, set)
      failing.delete(k)
    } catch (err) {
      if (failing.has(k)) return
      failing.add(k)
      say({ action: 'scrape', target: b.adapter.engine, pool_id: poolId, replica_id: replicaId, error: (err as Error).message },
        `cannot scrape ${b.adapter.engine} metrics of ${poolId}/${replicaId}`, 'warn')
    }
  }

  return {
    forget,
    async scrape (pools: ReadonlyMap<string, ReadonlyMap<string, Binding>>): Promise<void> {
      await Promise.all([...pools.entries()].flatMap(([p, replicas]) => [...replicas.entries()].map(([r, b]) => scrapeOne(p, r, b))))
    },
  }
}
