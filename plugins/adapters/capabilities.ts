import type { EngineCapability } from '../../sdk/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import type { Binding } from './binding.js'

type Workload = EngineCapability['supported_workloads'][number]

/**
 * `GET /v1/capabilities` engines from the cache (spec adapters §3.2, api-and-core §3.2): one
 * entry per engine of a configured or bound pool; ctx_max is the max over its pools,
 * concurrency the sum of slots of its bound replicas. Never calls an engine.
 */
export function aggregateCapabilities (
  pools: ReadonlyMap<string, ReadonlyMap<string, Binding>>,
  configs: readonly PoolConfig[],
  now: number
): EngineCapability[] {
  const byEngine = new Map<string, EngineCapability & { pools: NonNullable<EngineCapability['pools']> }>()
  const entry = (engine: string) => {
    let e = byEngine.get(engine)
    if (!e) {
      e = { engine, ctx_max: 0, supported_workloads: [], rate_limits: {}, features: { streaming: true, cancel: true }, concurrency: 0, pools: [] }
      byEngine.set(engine, e)
    }
    return e
  }
  const poolIds = new Set([...configs.map((c) => c.id), ...pools.keys()])
  for (const poolId of [...poolIds].sort()) {
    const config = configs.find((c) => c.id === poolId)
    const replicas = [...(pools.get(poolId)?.values() ?? [])]
    const engine = replicas[0]?.adapter.engine ?? config?.engine
    if (engine === undefined) continue
    const e = entry(engine)
    let slots = 0
    let ready = false
    for (const b of replicas) {
      slots += b.slotsTotal
      ready ||= b.ready !== false && b.breaker.state(now) !== 'open'
      e.ctx_max = Math.max(e.ctx_max, b.ctxMax ?? 0)
      for (const w of b.caps.supported_workloads ?? ['completion']) if (!e.supported_workloads.includes(w)) e.supported_workloads.push(w)
      Object.assign(e.features, b.caps.features)
      if (b.caps.rate_limits) Object.assign(e.rate_limits, b.caps.rate_limits)
      if (b.engineVersion && e.engine_version === undefined) e.engine_version = b.engineVersion
    }
    if (replicas.length === 0) e.ctx_max = Math.max(e.ctx_max, config?.ctx ?? 0)
    e.concurrency! += slots
    e.pools.push({ pool_id: poolId, replicas: replicas.length, slots_total: slots, ready })
  }
  for (const e of byEngine.values()) if (e.supported_workloads.length === 0) e.supported_workloads.push('completion' as Workload)
  return [...byEngine.values()].sort((a, b) => a.engine.localeCompare(b.engine))
}
