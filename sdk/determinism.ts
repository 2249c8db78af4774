/**
 * Determinism signals (spec adapters §1.7, ORCH-3277, ADAPT-3003): the effective seed, the
 * sampler profile and the model digest of a task, computed the same way by every adapter
 * and by the adapter host's narration. Exported from `llama-orch/sdk`.
 */
import { createHash } from 'node:crypto'
import type { TaskRequest } from './task.js'

/** Sampler profiles this version knows; `v1` = greedy with a fixed seed (§1.7 table). */
export const SAMPLER_PROFILES = ['v1'] as const
export type SamplerProfile = typeof SAMPLER_PROFILES[number]
export const DEFAULT_SAMPLER_PROFILE: SamplerProfile = 'v1'

/** Largest seed every engine accepts (llama.cpp reads 2^32−1 as "random"). */
export const SEED_MAX = 0xFFFF_FFFE

/** First 4 bytes of SHA-256(task_id) as a big-endian uint32, clamped to 0..2^32−2 (D19). */
export function deriveSeed (taskId: string): number {
  return Math.min(createHash('sha256').update(taskId).digest().readUInt32BE(0), SEED_MAX)
}

export interface Determinism {
  /** The request's seed, or the one derived from its task id. */
  seed: number
  /** The profile the adapter applies. */
  profile: string
  /** Set only when the request or the pool named a profile (reported in `started`). */
  sampler_profile_version?: string
  /** Set only when the pool pins the model's digest. */
  model_digest?: string
  strict: boolean
}

/** What of a pool's config determinism reads (a subset of PoolConfig). */
export interface DeterminismPool {
  sampler_profile_version?: string | null
  provisioning?: { model?: { checksum?: string | null } | null }
}

export function determinismOf (req: TaskRequest, pool?: DeterminismPool): Determinism {
  const named = req.sampler_profile_version ?? pool?.sampler_profile_version ?? undefined
  const digest = pool?.provisioning?.model?.checksum ?? undefined
  const d: Determinism = { seed: req.seed ?? deriveSeed(req.task_id), profile: named ?? DEFAULT_SAMPLER_PROFILE, strict: req.determinism === 'strict' }
  if (named !== undefined) d.sampler_profile_version = named
  if (digest !== undefined) d.model_digest = digest
  return d
}

export function isKnownProfile (profile: string): profile is SamplerProfile {
  return (SAMPLER_PROFILES as readonly string[]).includes(profile)
}
