/**
 * The chaos run's manifest: short timeouts, retries and backoffs so faults resolve in
 * milliseconds (a CI-sized run fits in about a minute), and a breaker that reopens quickly.
 */
export const MODEL = 'chaos'
export const SAT_MODEL = 'chaos-sat'
export const EMBEDDED_MODEL = 'tiny'
/** Adapter idle timeout: a `stall` fault holds the stream past it. */
export const IDLE_MS = 250

const fastSupervision = { backoff_initial_ms: 50, backoff_max_ms: 300, breaker_max_restarts: 50, breaker_cooldown_ms: 500 }

export function manifestFor (o: { root: string, ports: number[], embedded: boolean }): Record<string, unknown> {
  const external = (id: string, model: string, port: number, slots: number, capacity: number): Record<string, unknown> => ({
    id,
    engine: 'llamacpp',
    model,
    devices: [],
    slots_total: slots,
    provisioning: { mode: 'external', compute_policy: 'cpu-only', host: '127.0.0.1', ports: [port], model: { ref: 'tiny.gguf' } },
    queue: { capacity, full_policy: 'reject' },
    supervision: fastSupervision,
    health_check: { interval_ms: 100, timeout_ms: 500, failure_threshold: 3 },
  })
  const [a, b, sat] = o.ports as [number, number, number]
  return {
    ...(o.embedded ? { providers: ['embedded'] } : {}),
    adapters: [{
      package: 'llamacpp',
      options: { http: { connections: 64, idle_timeout_ms: IDLE_MS, first_token_timeout_ms: 3000, attempts: 3, backoff_base_ms: 5, backoff_cap_ms: 40 } },
    }],
    adapter_host: { breaker: { threshold: 5, cooldown_ms: 100, max_cooldown_ms: 400 } },
    catalog: { root: o.root },
    tasks: { sweep_interval_ms: 100, retention_ms: 2000, trace_artifacts: false },
    pools: [
      external('a', MODEL, a, 8, 64),
      external('b', MODEL, b, 8, 64),
      external('sat', SAT_MODEL, sat, 2, 8),
      ...(o.embedded
        ? [{
            id: 'emb',
            engine: 'llamacpp',
            model: EMBEDDED_MODEL,
            devices: [],
            provisioning: { mode: 'embedded', compute_policy: 'cpu-only', model: { ref: 'tiny.gguf' } },
            // the real engine on a busy 2-core box: a longer idle gap than the fakes get
            timeouts: { idle_ms: 1500 },
            supervision: { ...fastSupervision, backoff_initial_ms: 100, backoff_max_ms: 500 },
            health_check: { interval_ms: 200, timeout_ms: 500, failure_threshold: 2, startup_timeout_ms: 60_000 },
          }]
        : []),
    ],
  }
}
