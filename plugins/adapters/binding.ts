import type { CapabilitySnapshot, WorkerAdapter } from '../../sdk/index.js'
import type { Breaker } from './breaker.js'

/** One adapter bound to a (pool, replica) in the adapter host, with what the host knows of it. */
export interface Binding {
  adapter: WorkerAdapter
  engineVersion: string | null
  slotsTotal: number
  ctxMax: number | null
  caps: CapabilitySnapshot
  /** Last known readiness; null until a health answer came. */
  ready: boolean | null
  inFlight: number
  breaker: Breaker
  /** Adapters replaced by rebind, closed once their last stream ends. */
  retired: boolean
}
