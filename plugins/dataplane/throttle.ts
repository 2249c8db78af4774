import { createHash } from 'node:crypto'

interface Bucket { tokens: number, at: number }

/**
 * The per-API-token admission throttle (spec api-and-core §2.1 step 6, ORCH-3006): one token
 * bucket per client, refilled at `ratePerS` up to `burst`. Clients are kept by a hash of their
 * key, never the key itself; a bucket that has refilled is forgotten (a fresh one is the same).
 */
export class Throttle {
  readonly #rate: number
  readonly #burst: number
  readonly #buckets = new Map<string, Bucket>()

  constructor (ratePerS: number, burst: number) {
    this.#rate = ratePerS / 1000
    this.#burst = burst
  }

  /** Takes a token for `client`: 0 when admitted, else the ms until one is there. */
  take (client: string, now: number): number {
    const id = createHash('sha256').update(client).digest('base64url')
    const b = this.#refill(this.#buckets.get(id) ?? { tokens: this.#burst, at: now }, now)
    this.#buckets.set(id, b)
    if (b.tokens >= 1) { b.tokens -= 1; return 0 }
    return Math.ceil((1 - b.tokens) / this.#rate)
  }

  /** Forgets clients whose bucket is full again (the sweep calls this). */
  prune (now: number): void {
    for (const [id, b] of this.#buckets) if (this.#refill(b, now).tokens >= this.#burst) this.#buckets.delete(id)
  }

  get clients (): number { return this.#buckets.size }

  #refill (b: Bucket, now: number): Bucket {
    // a clock stepping back adds nothing and does not move the refill origin back
    if (now > b.at) {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#rate)
      b.at = now
    }
    return b
  }
}
