import { Type, type Static } from 'typebox'
import { Millis, Strict } from '../../sdk/schema-helpers.js'

/** The adapter host's circuit breaker and timers (spec adapters §3.1, ORCH-3602/3603, §5.4). */
export const AdapterHostConfig = Strict({
  breaker: Strict({
    threshold: Type.Integer({ minimum: 1, default: 5, description: 'consecutive POOL_UNAVAILABLE / WORKER_RESET failures that open a replica\'s breaker' }),
    cooldown_ms: Millis({ minimum: 1, default: 10_000, description: 'cool-down before the half-open health probe; doubles each time the probe fails' }),
    max_cooldown_ms: Millis({ minimum: 1, default: 60_000, description: 'cap of the doubling cool-down; at least cooldown_ms' }),
  }, { default: {} }),
  refresh_ms: Millis({ default: 30_000, description: 'capability and health refresh period; 0 = off' }),
  scrape_ms: Millis({ default: 15_000, description: 'engine /metrics scrape period; 0 = off' }),
}, { default: {} })

export type AdapterHostConfig = Static<typeof AdapterHostConfig>
