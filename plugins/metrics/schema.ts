import { Type, type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'

export const DEFAULT_BUCKETS_MS = [50, 100, 200, 500, 1000, 5000, 10000]

export const MetricsConfig = Strict({
  buckets_ms: Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
    minItems: 1,
    default: DEFAULT_BUCKETS_MS,
    description: 'histogram buckets (ms) for latency_first_token_ms and latency_decode_ms, strictly increasing',
  }),
}, { default: {} })

export type MetricsConfig = Static<typeof MetricsConfig>
