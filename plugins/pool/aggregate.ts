/**
 * A pool's registry entry from its replicas' entries (spec adapters §4: pool health = live if
 * any replica is live, ready if any is ready). Only the fields replica managers write are
 * aggregated; leases, device mask and VRAM stay the pool's own. A set of one replica
 * aggregates to that replica's entry exactly.
 */
import type { PoolEntry, PoolState } from './registry.js'

export type ReplicaFields = Pick<PoolEntry,
  'state' | 'health' | 'draining' | 'last_error' | 'last_heartbeat_ms' | 'engine' | 'engine_version' | 'engine_digest' |
  'engine_catalog_id' | 'model_id' | 'compute_mode' | 'slots_total' | 'perf_tokens_per_s' | 'first_token_ms' | 'restart_count' | 'backoff_ms'>

/** Which state a pool of no Ready replica shows: the one furthest along towards serving again. */
const NOT_READY_ORDER: readonly PoolState[] = ['Draining', 'Preloading', 'Backoff', 'CircuitOpen', 'Unready', 'Stopped']

function stateOf (entries: ReadonlyArray<Readonly<PoolEntry>>): PoolState {
  if (entries.some((e) => e.state === 'Ready')) return 'Ready'
  for (const s of NOT_READY_ORDER) if (entries.some((e) => e.state === s)) return s
  return entries[0]!.state
}

export function aggregateEntry (entries: ReadonlyArray<Readonly<PoolEntry>>): ReplicaFields {
  const ready = entries.filter((e) => e.health.ready)
  // what the pool serves is what its Ready replicas serve; with none, what the first knew
  const lead = ready[0] ?? entries.find((e) => e.model_id !== null) ?? entries[0]!
  const heartbeats = entries.flatMap((e) => e.last_heartbeat_ms === null ? [] : [e.last_heartbeat_ms])
  const waits = entries.flatMap((e) => e.backoff_ms > 0 ? [e.backoff_ms] : [])
  return {
    state: stateOf(entries),
    health: { live: entries.some((e) => e.health.live), ready: ready.length > 0 },
    draining: entries.some((e) => e.draining),
    last_error: entries.find((e) => e.last_error !== null)?.last_error ?? null,
    last_heartbeat_ms: heartbeats.length ? Math.max(...heartbeats) : null,
    engine: lead.engine,
    engine_version: lead.engine_version,
    engine_digest: lead.engine_digest,
    engine_catalog_id: lead.engine_catalog_id,
    model_id: lead.model_id,
    compute_mode: lead.compute_mode,
    // capacity is what Ready replicas offer; with none Ready, what the set would offer
    slots_total: (ready.length ? ready : entries).reduce((n, e) => n + e.slots_total, 0),
    perf_tokens_per_s: lead.perf_tokens_per_s,
    first_token_ms: lead.first_token_ms,
    restart_count: entries.reduce((n, e) => n + e.restart_count, 0),
    // the soonest retry
    backoff_ms: waits.length ? Math.min(...waits) : 0,
  }
}
