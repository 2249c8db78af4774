/**
 * Queue position and predictions (spec api-and-core.md §4.4, decision 6, D16): deterministic
 * formulas over an EWMA (α = 0.2) of each pool's completed job durations and ms per token.
 */
export const EWMA_ALPHA = 0.2

export class Ewma {
  value: number | undefined
  observe (x: number): void {
    this.value = this.value === undefined ? x : this.value + EWMA_ALPHA * (x - this.value)
  }
}

export interface PoolStats { jobMs: Ewma, msPerToken: Ewma }
export const newPoolStats = (): PoolStats => ({ jobMs: new Ewma(), msPerToken: new Ewma() })

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x))

/** 0 when a slot is free and nothing is ahead; else the waves ahead × the average job. */
export function predictedStartMs (position: number, slotsFree: number, slotsTotal: number, stats: PoolStats, etaPerItemMs: number): number {
  if (slotsFree > 0 && position === 0) return 0
  const avg = stats.jobMs.value
  if (avg === undefined) return etaPerItemMs * (position + 1)
  return Math.ceil((position + 1) / Math.max(1, slotsTotal)) * Math.round(avg)
}

/**
 * Decision 6: from the live queue, `depth × service time per slot`, clamped to 250 ms..60 s.
 * Before any job has completed the service time is `eta_per_item_ms`.
 */
export function retryAfterMs (depth: number, slotsTotal: number, stats: PoolStats, etaPerItemMs: number): number {
  const service = (stats.jobMs.value ?? etaPerItemMs) / Math.max(1, slotsTotal)
  return Math.round(clamp(Math.max(1, depth) * service, 250, 60_000))
}

/** Pacing advice on a 202: `retry_after_ms` once occupancy reaches the high watermark. */
export function backoffMs (len: number, capacity: number, highWatermark: number, retryAfter: number): number {
  return len / capacity >= highWatermark ? retryAfter : 0
}

/** 1 when the predicted remaining time p ≤ 0.8r, 0 when p ≥ 1.2r, linear between (§4.4). */
export function onTimeProbability (remainingMs: number, predictedMs: number): number {
  if (remainingMs <= 0) return 0
  if (predictedMs <= 0.8 * remainingMs) return 1
  if (predictedMs >= 1.2 * remainingMs) return 0
  return Math.round(((1.2 * remainingMs - predictedMs) / (0.4 * remainingMs)) * 1000) / 1000
}

/** §4.2: without an adapter tokenizer, `ceil(utf8 bytes / 4)`; a chat counts its contents (the template adds a few). */
export function estimateTokens (req: {
  prompt?: string | undefined, inputs?: string[] | undefined, messages?: Array<{ content: string }> | undefined
}): number {
  let bytes = req.prompt === undefined ? 0 : Buffer.byteLength(req.prompt)
  for (const s of req.inputs ?? []) bytes += Buffer.byteLength(s)
  for (const m of req.messages ?? []) bytes += Buffer.byteLength(m.content)
  return Math.ceil(bytes / 4)
}
