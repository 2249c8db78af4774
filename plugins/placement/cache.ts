import { createHash } from 'node:crypto'
import { canonicalJson } from '../../lib/canonical.js'
import type { JobSpec, PlacementDecision, PlacementPolicy } from './placement.js'

/**
 * The placement decision cache (spec §4.3.5, ORCH-3410). Key = sha256 of the canonical JSON of
 * the placement-relevant job fields plus the affine pool, with the snapshot_version and the
 * policy name; entries live `ttlMs` and at most `max` of them are kept (least recently used
 * goes first). A bump of snapshot_version makes every older entry unreachable and drops it.
 */

/** task and session ids are not part of a JobSpec, so they can never reach the key. */
export function cacheKey (job: JobSpec, affinityPoolId: string | undefined, version: number, policy: PlacementPolicy): string {
  const digest = createHash('sha256').update(canonicalJson({ job, affinityPoolId })).digest('hex')
  return `${digest}:${version}:${policy}`
}

interface Entry { decision: PlacementDecision, version: number, expiresAt: number }

export interface DecisionCache {
  get (key: string, version: number, nowMs: number): PlacementDecision | undefined
  set (key: string, decision: PlacementDecision, version: number, nowMs: number): void
  delete (key: string): void
  clear (): void
  readonly size: number
}

export function createDecisionCache (ttlMs: number, max = 1024): DecisionCache {
  const entries = new Map<string, Entry>()
  let lastVersion = 0
  return {
    get (key, version, nowMs) {
      if (version !== lastVersion) { entries.clear(); lastVersion = version }
      const e = entries.get(key)
      if (!e) return undefined
      if (e.version !== version || nowMs >= e.expiresAt) { entries.delete(key); return undefined }
      // refresh recency: Map keeps insertion order, so re-insert at the end
      entries.delete(key)
      entries.set(key, e)
      return e.decision
    },
    set (key, decision, version, nowMs) {
      if (version !== lastVersion) { entries.clear(); lastVersion = version }
      entries.delete(key)
      entries.set(key, { decision, version, expiresAt: nowMs + ttlMs })
      while (entries.size > max) entries.delete(entries.keys().next().value!)
    },
    delete (key) { entries.delete(key) },
    clear () { entries.clear() },
    get size () { return entries.size },
  }
}
