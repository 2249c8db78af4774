export type WatchdogReason = 'first_token_timeout' | 'idle_timeout' | 'deadline'

const MAX_DELAY = 2 ** 31 - 1

/**
 * The three stream timeouts of spec §1.5 on one lazily re-armed timer: first token (from the
 * request until the first token), idle (time spent waiting on the engine since the last
 * token or since the consumer took the last one), and wall (deadline / `wall_ms`). Per token
 * it only stores a timestamp; the timer re-arms itself when it fires early.
 */
export class Watchdog {
  fired: WatchdogReason | undefined
  private timer: NodeJS.Timeout | undefined
  private armedFor = Infinity
  private sawToken = false
  private last: number
  private readonly now: () => number
  private readonly firstDue: number
  private readonly idleMs: number
  private readonly wallAt: number
  private readonly onFire: (reason: WatchdogReason) => void

  constructor (o: { now: () => number, firstTokenMs: number, idleMs: number, wallAt: number, onFire: (reason: WatchdogReason) => void }) {
    this.now = o.now
    this.last = o.now()
    this.firstDue = this.last + o.firstTokenMs
    this.idleMs = o.idleMs
    this.wallAt = o.wallAt
    this.onFire = o.onFire
    this.arm()
  }

  /** Tokens arrived. */
  token (): void {
    this.sawToken = true
    this.last = this.now()
    // the first token may bring the due time forward (idle shorter than first-token)
    if (this.timer !== undefined && this.last + this.idleMs < this.armedFor) {
      clearTimeout(this.timer)
      this.arm()
    }
  }

  /** The consumer took what was decoded; waiting on the engine starts again. */
  resume (): void {
    if (this.sawToken) this.last = this.now()
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private due (): number {
    return Math.min(this.wallAt, this.sawToken ? this.last + this.idleMs : this.firstDue)
  }

  private arm (): void {
    this.armedFor = this.due()
    this.timer = setTimeout(() => this.check(), Math.min(MAX_DELAY, Math.max(0, this.armedFor - this.now())))
    this.timer.unref()
  }

  private check (): void {
    const t = this.now()
    const reason: WatchdogReason | undefined = t >= this.wallAt
      ? 'deadline'
      : t >= this.due() ? (this.sawToken ? 'idle_timeout' : 'first_token_timeout') : undefined
    if (reason === undefined) { this.arm(); return }
    this.timer = undefined
    this.fired = reason
    this.onFire(reason)
  }
}
