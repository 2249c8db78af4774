/**
 * Restart bookkeeping for one pool (spec pools §1.8, D5): exponential backoff with jitter,
 * reset after a stable run, and a restart-storm circuit breaker. Pure: time comes in as
 * arguments and randomness through an injected function, so tests drive it exactly.
 */
export interface BackoffConfig {
  backoff_initial_ms: number
  backoff_factor: number
  backoff_max_ms: number
  jitter: boolean
  stable_reset_ms: number
  breaker_max_restarts: number
  breaker_window_ms: number
  breaker_cooldown_ms: number
}

export type Verdict =
  | { kind: 'retry', delayMs: number, attempt: number }
  | { kind: 'open', cooldownMs: number, failures: number }

export class RestartPolicy {
  private attempt = 0
  private failures: number[] = []
  private healthySince: number | null = null

  private readonly cfg: BackoffConfig
  private readonly random: () => number

  constructor (cfg: BackoffConfig, random: () => number = Math.random) {
    this.cfg = cfg
    this.random = random
  }

  /** The exponential step for an attempt, before jitter, capped at backoff_max_ms. */
  step (attempt: number): number {
    return Math.min(this.cfg.backoff_max_ms, this.cfg.backoff_initial_ms * this.cfg.backoff_factor ** attempt)
  }

  /** The replica passed its health gate at `now`. */
  healthy (now: number): void { this.healthySince = now }

  /**
   * A crash or a failed start at `now`: how long to wait before the next try, or that the
   * breaker opens (breaker_max_restarts failures inside breaker_window_ms).
   */
  failed (now: number): Verdict {
    if (this.healthySince !== null && now - this.healthySince >= this.cfg.stable_reset_ms) this.attempt = 0
    this.healthySince = null
    this.failures = this.failures.filter((t) => now - t < this.cfg.breaker_window_ms)
    this.failures.push(now)
    if (this.failures.length >= this.cfg.breaker_max_restarts) {
      return { kind: 'open', cooldownMs: this.cfg.breaker_cooldown_ms, failures: this.failures.length }
    }
    const base = this.step(this.attempt)
    const attempt = ++this.attempt
    // jitter within [50 %, 100 %] of the step: spreads restarts without ever collapsing to 0 ms
    const delayMs = Math.round(this.cfg.jitter ? base * (0.5 + 0.5 * this.random()) : base)
    return { kind: 'retry', delayMs, attempt }
  }

  /** After a cooldown or an operator reload: the next failure starts a fresh window. */
  reset (): void {
    this.attempt = 0
    this.failures = []
    this.healthySince = null
  }
}
