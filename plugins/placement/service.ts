import type { Clock } from '../../lib/clock.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import type { PoolRegistry } from '../pool/index.js'
import { cacheKey, createDecisionCache } from './cache.js'
import { DEFAULT_SAMPLER_PROFILE } from '../../sdk/determinism.js'
import { decide, type IncompatibleReason, type JobSpec, type PlacementDecision, type PlacementPolicy, type PoolSnapshot } from './placement.js'
import { refusalOf, type Refusal } from './refusal.js'
import type { PlacementConfig } from './schema.js'

export interface PlaceOptions {
  /** The session's affine pool/replica when its affinity is still valid (§4.3.4). */
  affinity?: { poolId: string, replicaId?: string } | undefined
  /** Tasks waiting in a pool's queue (the data plane registers after placement). */
  queueLen?: ((poolId: string) => number) | undefined
  /** The only pool the task may run on (TaskRequest.placement.pin_pool_id); the cache is bypassed. */
  pin?: string | undefined
}

export interface Placement {
  readonly policy: PlacementPolicy
  readonly config: Readonly<PlacementConfig>
  /** Process-wide, starts at 1, +1 on every topology/eligibility change (§4.3.5, decision D6). */
  snapshotVersion (): number
  /** Bumps snapshot_version by hand (catalog state changes, reloads); returns the new value. */
  bump (): number
  /** One snapshot per configured pool, as placement sees it now. */
  snapshots (queueLen?: (poolId: string) => number): PoolSnapshot[]
  /** The decision for a job: cached per §4.3.5, with readiness re-checked on every hit. */
  place (job: JobSpec, o?: PlaceOptions): PlacementDecision
  /** What a `no_capacity` decision answers (refusal.ts): transient or not, the code, each pool's reason. */
  refusal (job: JobSpec, reasons: Readonly<Record<string, IncompatibleReason>>): Refusal
}

export interface PlacementDeps {
  registry: PoolRegistry
  configs: readonly PoolConfig[]
  clock: Clock
  /** The context window the pool's bound engine reports, when known (adapter capabilities). */
  engineCtxMax?: (poolId: string) => number | null
}

const UNBOUNDED_CTX = Number.MAX_SAFE_INTEGER

export function createPlacement (config: PlacementConfig, deps: PlacementDeps): Placement {
  const { registry, configs, clock } = deps
  const cache = createDecisionCache(config.cache_ttl_ms)
  let version = 1
  let fingerprint = ''
  // the tighter of what the operator configured and what the engine says it serves
  const ctxMaxOf = (c: PoolConfig): number => Math.min(c.ctx ?? UNBOUNDED_CTX, deps.engineCtxMax?.(c.id) ?? UNBOUNDED_CTX)

  const snapshots = (queueLen?: (poolId: string) => number): PoolSnapshot[] => {
    const now = clock.nowMs()
    const out: PoolSnapshot[] = []
    for (const c of configs) {
      const e = registry.get(c.id)
      if (!e) continue
      const stale = e.last_heartbeat_ms !== null && now - e.last_heartbeat_ms > config.snapshot_stale_ms
      out.push({
        id: c.id,
        engine: e.engine ?? c.engine,
        ...(e.engine_version ? { engineVersion: e.engine_version } : {}),
        // tasks name the pool's logical model (D12), whatever file or repo serves it now
        modelId: c.model,
        live: e.health.live && !stale,
        ready: e.health.ready && e.state !== 'Draining' && !stale,
        draining: e.draining || e.state === 'Draining',
        slotsTotal: e.slots_total,
        slotsFree: registry.slotsFree(c.id),
        vramTotalBytes: e.vram_total_bytes ?? 0,
        vramFreeBytes: e.vram_free_bytes ?? 0,
        ...(e.compute_capability ? { computeCapability: e.compute_capability } : {}),
        deviceMask: [...e.device_mask],
        ctxMax: ctxMaxOf(c),
        ...(c.quant ? { quantizations: [c.quant] } : {}),
        // a pool that names no profile samples with the default one, as determinismOf says
        samplerProfileVersion: c.sampler_profile_version ?? DEFAULT_SAMPLER_PROFILE,
        ...(e.perf_tokens_per_s !== null ? { perfTokensPerS: e.perf_tokens_per_s } : {}),
        ...(e.first_token_ms !== null ? { firstTokenMs: e.first_token_ms } : {}),
        queueLen: queueLen?.(c.id) ?? 0,
      })
    }
    // eligibility fingerprint: a change here is a topology/eligibility change (D6), never slots or VRAM
    const fp = out.map((p) => [
      p.id, p.engine, p.engineVersion, p.modelId, p.live, p.ready, p.draining, p.ctxMax,
      p.deviceMask?.join('.'), p.quantizations?.join('.'), p.samplerProfileVersion,
    ].join('|')).join(';')
    if (fp !== fingerprint) {
      if (fingerprint !== '') version++
      fingerprint = fp
    }
    return out
  }

  return {
    policy: config.policy,
    config,
    snapshotVersion: () => version,
    bump: () => ++version,
    snapshots,
    place (job, o = {}) {
      const pools = snapshots(o.queueLen)
      const how = { policy: config.policy, ...(o.affinity ? { affinity: o.affinity } : {}) }
      if (o.pin !== undefined) return decide(pools.filter((p) => p.id === o.pin), job, how)
      const now = clock.nowMs()
      const key = cacheKey(job, o.affinity?.poolId, version, config.policy)
      if (config.cache_ttl_ms > 0) {
        const hit = cache.get(key, version, now)
        if (hit?.kind === 'assigned') {
          const p = pools.find((s) => s.id === hit.poolId)
          if (p && p.ready && p.live && !p.draining) return hit
          cache.delete(key)
        }
      }
      const decision = decide(pools, job, how)
      // only assignments are cached: a refusal must see a pool the moment it becomes Ready
      if (config.cache_ttl_ms > 0 && decision.kind === 'assigned') cache.set(key, decision, version, now)
      return decision
    },
    refusal: (job, reasons) => refusalOf(snapshots(), job, reasons),
  }
}
