/**
 * The circuit breaker of one (pool, replica) (ORCH-3602): closed → open after `threshold`
 * consecutive POOL_UNAVAILABLE / WORKER_RESET outcomes; open refuses work for a cool-down
 * (10 s, doubling on each failed probe up to 60 s); then half-open lets one health probe
 * through: ready closes it, anything else opens it again.
 */
export interface BreakerPolicy { threshold: number, cooldownMs: number, maxCooldownMs: number }

export const DEFAULT_BREAKER: Readonly<BreakerPolicy> = { threshold: 5, cooldownMs: 10_000, maxCooldownMs: 60_000 }

export type BreakerState = 'closed' | 'open' | 'half-open'

export class Breaker {
  failures = 0
  private openedAt = 0
  private cooldown: number
  private opened = false
  /** A probe is in flight (half-open lets exactly one through). */
  probing = false
  private readonly policy: BreakerPolicy

  constructor (policy: BreakerPolicy = DEFAULT_BREAKER) {
    this.policy = policy
    this.cooldown = policy.cooldownMs
  }

  state (now: number): BreakerState {
    if (!this.opened) return 'closed'
    return now < this.openedAt + this.cooldown ? 'open' : 'half-open'
  }

  /** Milliseconds until a probe may run (0 when closed or half-open). */
  remaining (now: number): number {
    return this.opened ? Math.max(0, this.openedAt + this.cooldown - now) : 0
  }

  /** A counted failure; true when it just opened the breaker. */
  failure (now: number): boolean {
    this.failures++
    if (this.opened || this.failures < this.policy.threshold) return false
    this.opened = true
    this.openedAt = now
    this.cooldown = this.policy.cooldownMs
    return true
  }

  /** Any other outcome ends a run of failures. */
  success (): void {
    if (!this.opened) this.failures = 0
  }

  /** The half-open probe failed: open again, cool-down doubled (capped). */
  reopen (now: number): void {
    this.opened = true
    this.openedAt = now
    this.cooldown = Math.min(this.policy.maxCooldownMs, this.cooldown * 2)
    this.probing = false
  }

  /** The half-open probe passed. */
  close (): void {
    this.opened = false
    this.failures = 0
    this.cooldown = this.policy.cooldownMs
    this.probing = false
  }
}
