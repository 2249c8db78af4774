/** Pool states of spec pools-provisioning-catalog.md §1.4. */
export type PoolState = 'Unready' | 'Preloading' | 'Ready' | 'Draining' | 'Backoff' | 'CircuitOpen' | 'Stopped'

/** One registry entry (spec §1.1), keyed by pool id. */
export interface PoolEntry {
  pool_id: string
  state: PoolState
  health: { live: boolean, ready: boolean }
  draining: boolean
  last_error: string | null
  last_heartbeat_ms: number | null
  engine: string | null
  engine_version: string | null
  engine_digest: string | null
  engine_catalog_id: string | null
  model_id: string | null
  device_mask: number[]
  slots_total: number
  active_leases: number
  vram_total_bytes: number | null
  vram_free_bytes: number | null
  compute_capability: string | null
  compute_mode: 'gpu' | 'cpu' | null
  perf_tokens_per_s: number | null
  first_token_ms: number | null
  restart_count: number
  backoff_ms: number
}

const INT32_MAX = 2_147_483_647

function fresh (poolId: string): PoolEntry {
  return {
    pool_id: poolId,
    state: 'Unready',
    health: { live: false, ready: false },
    draining: false,
    last_error: null,
    last_heartbeat_ms: null,
    engine: null,
    engine_version: null,
    engine_digest: null,
    engine_catalog_id: null,
    model_id: null,
    device_mask: [],
    slots_total: 0,
    active_leases: 0,
    vram_total_bytes: null,
    vram_free_bytes: null,
    compute_capability: null,
    compute_mode: null,
    perf_tokens_per_s: null,
    first_token_ms: null,
    restart_count: 0,
    backoff_ms: 0,
  }
}

export interface PoolRegistry {
  /** Creates the entry with defaults if unknown, then applies `patch`. */
  upsert (poolId: string, patch?: Partial<Omit<PoolEntry, 'pool_id'>>): PoolEntry
  get (poolId: string): Readonly<PoolEntry> | undefined
  list (): Array<Readonly<PoolEntry>>
  setHealth (poolId: string, health: { live: boolean, ready: boolean }): void
  getHealth (poolId: string): { live: boolean, ready: boolean } | undefined
  setLastError (poolId: string, error: string | null): void
  getLastError (poolId: string): string | null | undefined
  setHeartbeat (poolId: string, ms: number): void
  getHeartbeat (poolId: string): number | null | undefined
  /** `version` and `engine_version` are one field (spec D11). */
  setVersion (poolId: string, version: string): void
  getVersion (poolId: string): string | null | undefined
  /** Saturating at int32 max; returns the new count. */
  allocateLease (poolId: string): number
  /** Clamped at 0; returns the new count. */
  releaseLease (poolId: string): number
  getActiveLeases (poolId: string): number
  /** `max(0, slots_total − active_leases)`, and 0 while not ready or draining. */
  slotsFree (poolId: string): number
}

/** The pool manager's registry (spec §1.1–1.2); plain state, no I/O. */
export function createPoolRegistry (): PoolRegistry {
  const pools = new Map<string, PoolEntry>()
  const entry = (id: string): PoolEntry => {
    let e = pools.get(id)
    if (!e) { e = fresh(id); pools.set(id, e) }
    return e
  }
  return {
    upsert (id, patch = {}) {
      return Object.assign(entry(id), patch)
    },
    get: (id) => pools.get(id),
    list: () => [...pools.values()],
    setHealth (id, health) { entry(id).health = { ...health } },
    getHealth: (id) => pools.get(id)?.health,
    setLastError (id, error) { entry(id).last_error = error },
    getLastError: (id) => pools.get(id)?.last_error,
    setHeartbeat (id, ms) { entry(id).last_heartbeat_ms = ms },
    getHeartbeat: (id) => pools.get(id)?.last_heartbeat_ms,
    setVersion (id, version) { entry(id).engine_version = version },
    getVersion: (id) => pools.get(id)?.engine_version,
    allocateLease (id) {
      const e = entry(id)
      e.active_leases = Math.min(INT32_MAX, e.active_leases + 1)
      return e.active_leases
    },
    releaseLease (id) {
      const e = entry(id)
      e.active_leases = Math.max(0, e.active_leases - 1)
      return e.active_leases
    },
    getActiveLeases: (id) => pools.get(id)?.active_leases ?? 0,
    slotsFree (id) {
      const e = pools.get(id)
      if (!e || !e.health.ready || e.draining) return 0
      return Math.max(0, e.slots_total - e.active_leases)
    },
  }
}
