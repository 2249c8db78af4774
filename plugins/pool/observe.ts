/**
 * What the pool manager shows: the health body of `GET /v1/pools/{id}/health`, whether a
 * replica is idle (for retiring it after a reload), and the GPU gauges it owns
 * (`gpu_utilization`, `vram_used_bytes`), sampled only where a GPU serves a pool.
 */
import { request } from 'undici'
import type { Metrics } from '../metrics/index.js'
import type { PoolEntry, PoolRegistry } from './registry.js'
import type { Operation, PoolManager } from './manager.js'
import type { Replica } from './replica.js'
import type { GpuDevice } from '../../lib/gpu.js'

export interface PoolHealth {
  id: string
  live: boolean
  ready: boolean
  draining: boolean
  state: PoolEntry['state']
  engine: string | null
  engine_version: string | null
  engine_digest: string | null
  engine_catalog_id: string | null
  compute_mode: 'gpu' | 'cpu' | null
  device_mask: number[]
  model_id: string | null
  /** The model ref the pool runs, or is being reloaded to. */
  target_model: string
  metrics: {
    queue_depth: number
    active_leases: number
    slots_total: number
    slots_free: number
    perf_tokens_per_s: number | null
    first_token_ms: number | null
    vram_total_bytes: number | null
    vram_free_bytes: number | null
  }
  last_error: string | null
  last_heartbeat_ms: number | null
  restart_count: number
  backoff_ms: number
  /** The last drain or reload and its outcome (decision 4: 202 now, outcome here). */
  operation: Operation | null
  /** Each replica of the set on its own; the fields above are their aggregate. */
  replicas: ReplicaHealth[]
}

export interface ReplicaHealth {
  replica_id: string
  state: PoolEntry['state']
  live: boolean
  ready: boolean
  pid: number | null
  model_id: string | null
  engine_version: string | null
  slots_total: number
  restart_count: number
  backoff_ms: number
  last_error: string | null
  last_heartbeat_ms: number | null
}

export function healthBody (e: Readonly<PoolEntry>, m: PoolManager, queueDepth: number): PoolHealth {
  const slotsFree = e.health.ready && !e.draining ? Math.max(0, e.slots_total - e.active_leases) : 0
  return {
    id: e.pool_id,
    live: e.health.live,
    ready: e.health.ready,
    draining: e.draining,
    state: e.state,
    engine: e.engine,
    engine_version: e.engine_version,
    engine_digest: e.engine_digest,
    engine_catalog_id: e.engine_catalog_id,
    compute_mode: e.compute_mode,
    device_mask: [...e.device_mask],
    model_id: e.model_id,
    target_model: m.operation?.state === 'running' && m.operation.target_model ? m.operation.target_model : m.targetRef,
    metrics: {
      queue_depth: queueDepth,
      active_leases: e.active_leases,
      slots_total: e.slots_total,
      slots_free: slotsFree,
      perf_tokens_per_s: e.perf_tokens_per_s,
      first_token_ms: e.first_token_ms,
      vram_total_bytes: e.vram_total_bytes,
      vram_free_bytes: e.vram_free_bytes,
    },
    last_error: e.last_error,
    last_heartbeat_ms: e.last_heartbeat_ms,
    restart_count: e.restart_count,
    backoff_ms: e.backoff_ms,
    operation: m.operation,
    replicas: m.entries().map((r, i) => ({
      replica_id: m.replicas[i]!.replicaId,
      state: r.state,
      live: r.health.live,
      ready: r.health.ready,
      pid: m.replicas[i]!.pid ?? null,
      model_id: r.model_id,
      engine_version: r.engine_version,
      slots_total: r.slots_total,
      restart_count: r.restart_count,
      backoff_ms: r.backoff_ms,
      last_error: r.last_error,
      last_heartbeat_ms: r.last_heartbeat_ms,
    })),
  }
}

/** llama-server engines say it themselves (`/slots`); otherwise the pool must have nothing in flight. */
export async function replicaIdle (replica: Replica, inFlight: () => number): Promise<boolean> {
  if (!replica.alive()) return true
  if (replica.prepared.health.kind !== 'llamacpp') return inFlight() === 0
  try {
    const res = await request(new URL('/slots', replica.prepared.health.url), { signal: AbortSignal.timeout(1000) })
    const slots = await res.body.json() as Array<{ is_processing?: boolean }>
    return Array.isArray(slots) && slots.every((s) => s.is_processing !== true)
  } catch {
    return inFlight() === 0
  }
}

/** One sample: gauges per device of every GPU pool, and the pool's VRAM totals in the registry. */
export async function sampleGpus (registry: PoolRegistry, metrics: Metrics, discover: () => Promise<GpuDevice[]>): Promise<void> {
  const gpuPools = registry.list().filter((e) => e.compute_mode === 'gpu')
  if (gpuPools.length === 0) return
  const gpus = await discover()
  for (const e of gpuPools) {
    const mine = gpus.filter((g) => e.device_mask.length === 0 || e.device_mask.includes(g.id))
    const base = { engine: e.engine ?? '', engine_version: e.engine_version ?? '', pool_id: e.pool_id, replica_id: `${e.pool_id}-r0` }
    for (const g of mine) {
      const labels = { ...base, device: String(g.id) }
      if (g.utilization !== null) metrics.gpu_utilization.set(labels, g.utilization)
      if (g.vram_used_bytes !== null) metrics.vram_used_bytes.set(labels, g.vram_used_bytes)
    }
    const free = mine.every((g) => g.vram_free_bytes !== null) ? mine.reduce((n, g) => n + g.vram_free_bytes!, 0) : null
    registry.upsert(e.pool_id, {
      vram_total_bytes: mine.length > 0 ? mine.reduce((n, g) => n + g.vram_total_bytes, 0) : null,
      vram_free_bytes: mine.length > 0 ? free : null,
    })
  }
}

/** Samples every `everyMs` (unref'd); returns the stop function. */
export function startGpuSampler (registry: PoolRegistry, metrics: Metrics, discover: () => Promise<GpuDevice[]>, everyMs: number): () => void {
  const tick = (): void => { void sampleGpus(registry, metrics, discover).catch(() => {}) }
  const timer = setInterval(tick, everyMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
