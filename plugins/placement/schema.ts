import { Type, type Static } from 'typebox'
import { Millis, Strict } from '../../sdk/schema-helpers.js'

export const PlacementConfig = Strict({
  policy: Type.Enum(['vram-least-loaded', 'predicted-end'], {
    default: 'vram-least-loaded',
    description: 'scoring of feasible pools (decision D5): most free VRAM, then least loaded; or earliest predicted end',
  }),
  cache_ttl_ms: Millis({ default: 500, description: 'how long a placement decision is reused (0 turns the cache off)' }),
  affinity_ttl_ms: Millis({ default: 300_000, description: 'a session keeps preferring its last pool for this long (soft)' }),
  snapshot_stale_ms: Millis({ minimum: 1, default: 5000, description: 'a pool whose last heartbeat is older than this is not placed on' }),
}, { default: {} })

export type PlacementConfig = Static<typeof PlacementConfig>
