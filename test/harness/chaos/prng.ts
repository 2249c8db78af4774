/**
 * A small seeded PRNG (mulberry32): the chaos run draws every random choice (fault kind, cancel
 * token index, burst size) from one of these, so a run is reproducible from its seed alone.
 */
import { mulberry32 } from '../../../lib/mulberry32.js'

export interface Rng {
  /** Uniform in [0, 1). */
  next (): number
  /** Integer in [lo, hi] (inclusive). */
  int (lo: number, hi: number): number
  /** true with probability p. */
  chance (p: number): boolean
  /** One element of a non-empty list. */
  pick<T> (items: readonly T[]): T
  /** An independent stream derived from this one (a round or a task gets its own). */
  fork (salt: number): Rng
}

export function prng (seed: number): Rng {
  const next = mulberry32(seed)
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    fork: (salt) => prng((Math.floor(next() * 4294967296) ^ Math.imul(salt, 0x9e3779b1)) >>> 0),
  }
}
