/**
 * Fault mixes: which fault a generation request gets, drawn from a seeded PRNG so the sequence of
 * faults a proxy applies is the same for the same seed. The mix is switched by the run per phase.
 */
import type { Fault, FaultKind } from './fault-proxy.js'
import type { Rng } from './prng.js'

export type Mix = Partial<Record<FaultKind, number>>

export const MIXES = {
  /** Warm-up and the drain/reload round's baseline: no faults. */
  pass: { pass: 1 },
  /** The chaos rounds: every catalog fault, pass-through the largest single share. */
  chaos: { pass: 30, latency: 8, refuse: 8, reset: 10, status: 12, stall: 6, malformed: 8, drip: 10 },
  /** Under drain/reload: lighter, so the operation and not the faults dominates. */
  light: { pass: 70, latency: 10, reset: 5, status: 5, drip: 10 },
  /** Queue saturation: every stream drips so tasks pile up behind the slots. */
  saturate: { drip: 1 },
} as const satisfies Record<string, Mix>

/** Draws one fault of `mix`; its parameters come from the same stream. `idleMs` sizes stalls. */
export function drawFault (rng: Rng, mix: Mix): Fault {
  const entries = Object.entries(mix) as Array<[FaultKind, number]>
  let r = rng.next() * entries.reduce((s, [, w]) => s + w, 0)
  let kind: FaultKind = 'pass'
  for (const [k, w] of entries) { if ((r -= w) < 0) { kind = k; break } }
  switch (kind) {
    case 'pass': return { kind }
    case 'refuse': return { kind }
    case 'latency': return { kind, ms: rng.int(5, 40) + rng.int(0, 20) } // base + jitter
    case 'reset': return { kind, frames: rng.int(0, 10) }
    case 'stall': return { kind, frames: rng.int(0, 8) }
    case 'malformed': return { kind, frames: rng.int(0, 10) }
    case 'drip': return { kind, ms: rng.int(3, 15) }
    case 'status': {
      const status = rng.pick([500, 503, 503, 429] as const)
      return status === 500 ? { kind, status } : { kind, status, retryAfterS: 0 }
    }
  }
}
