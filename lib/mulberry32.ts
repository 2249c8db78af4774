/**
 * mulberry32: a seeded uniform generator in [0, 1), small and fast, for reproducible data
 * (the generated tiny model's weights) and reproducible test schedules (the chaos harness).
 * Not for anything secret.
 */
export function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let x = state
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
