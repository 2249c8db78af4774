/**
 * The determinism corpus (spec adapters §6.3): the checked-in seeds file, its SHA-256 pinned
 * here (changing the corpus is a spec change), and the cases built from it — greedy prompts,
 * and seeded prompts under a flat sampler where different seeds really give different streams
 * (determinism-facts.md: with the usual truncation the tiny model behaves as greedy and a
 * seeded claim would prove nothing).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export const SEEDS_FILE = join(import.meta.dirname, 'seeds.txt')
export const SEEDS_SHA256 = '37ae95fe849628bd372f16d22defd1d01bdfb5127ff62df58686b26eda9f3e52'
export const MIN_SEEDS = 64

/** The sampler under which seeds matter on the tiny model: no truncation, a hot temperature. */
export const FLAT_SAMPLING = { temperature: 1.5, top_k: 0, top_p: 1, min_p: 0 } as const

export const PROMPTS: readonly string[] = [
  'Count: 3', 'Count: 7', 'Once upon a time', 'The capital of France is', 'def fib(n):', 'Q: What is 2+2?\nA:',
  'Roses are red,', 'Hello, my name is', '1, 2, 3,', 'The quick brown fox', 'In the beginning', 'SELECT * FROM',
  'Dear diary,', 'The weather today', 'Ingredients:', 'Chapter 1',
]

export interface Case {
  /** Stable name: `greedy-<k>` or `seed-<seed>`. */
  id: string
  prompt: string
  seed: number | null
  sampling: Record<string, number> | null
}

export function readSeeds (file = SEEDS_FILE, pinned = SEEDS_SHA256): number[] {
  const text = readFileSync(file, 'utf8')
  const sha = createHash('sha256').update(text).digest('hex')
  if (sha !== pinned) throw new Error(`${file} has SHA-256 ${sha}, not the pinned ${pinned}: the seeds corpus is part of the spec; change both together`)
  const seeds = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map(Number)
  const bad = seeds.find((s) => !Number.isSafeInteger(s))
  if (bad !== undefined) throw new Error(`${file}: ${bad} is not an integer seed`)
  if (seeds.length < MIN_SEEDS) throw new Error(`${file} holds ${seeds.length} seeds; the suite needs at least ${MIN_SEEDS}`)
  return seeds
}

/** Every greedy prompt once, then one seeded case per seed (prompts taken in turn). */
export function cases (seeds: readonly number[] = readSeeds()): Case[] {
  return [
    ...PROMPTS.map((prompt, k) => ({ id: `greedy-${k}`, prompt, seed: null, sampling: null })),
    ...seeds.map((seed, k) => ({ id: `seed-${seed}`, prompt: PROMPTS[k % PROMPTS.length]!, seed, sampling: { ...FLAT_SAMPLING } })),
  ]
}
