import { keyOf, type IncompatibleReason, type JobSpec, type NoCapacityCode, type PoolSnapshot } from './placement.js'

/**
 * Why no pool took a job, in the terms a client can act on (issue 10 #10): whether waiting can
 * help, the public code, and each pool's own reason. Pure, like placement.ts.
 *
 * - No configured pool serves the engine and model, or every pool that does fails on something
 *   it will never have (ctx, sampler profile, quantization, devices, total VRAM, …): the request
 *   cannot be served here as written, `transient: false` (400 INVALID_PARAMS, no Retry-After).
 * - Some pool that serves it is only not Ready yet, draining, or short of free VRAM right now:
 *   `transient: true`, with §4.3.2's codes (POOL_UNREADY when all such pools are unready or
 *   draining, REPLICA_EXHAUSTED when all lack headroom, else POOL_UNAVAILABLE), 503 + Retry-After.
 */
export interface Refusal {
  code: NoCapacityCode
  transient: boolean
  message: string
  /** The pool, when exactly one serves the engine and model. */
  poolId?: string
  /** Each pool's reason in words, keyed `pool` or `pool/replica`, for narration. */
  reasons: Record<string, string>
}

/** Reasons that can clear without anyone changing the request or the manifest. */
const TRANSIENT: ReadonlySet<IncompatibleReason> = new Set(['NOT_READY', 'DRAINING', 'VRAM'])

const list = (xs: readonly (string | number)[] | undefined): string => xs !== undefined && xs.length > 0 ? xs.join(', ') : 'none'

/** One pool's reason, with the values on both sides. */
export function explain (p: PoolSnapshot, job: JobSpec, r: IncompatibleReason): string {
  const req = job.requirements ?? {}
  switch (r) {
    case 'ENGINE': return `runs engine ${p.engine}`
    case 'MODEL': return `serves model ${p.modelId}`
    case 'DRAINING': return 'is draining'
    case 'NOT_READY': return p.live ? 'is not Ready yet (preloading, reloading or restarting)' : 'is down or its heartbeat is stale'
    case 'CTX': return `has ctx_max ${p.ctxMax}, the task needs ${job.requiredCtx} tokens of context`
    case 'VRAM': return `has ${p.vramFreeBytes} bytes of VRAM free, the task needs ${job.estKvBytes ?? 0}`
    case 'VRAM_TOTAL': return `has ${p.vramTotalBytes} bytes of VRAM in all, the task needs ${req.minVramBytes ?? 0}`
    case 'COMPUTE_CAP': return `has compute capability ${p.computeCapability ?? 'unknown'}, the task needs ${req.minComputeCap ?? ''}`
    case 'QUANT': return `serves quantizations ${list(p.quantizations)}, not ${req.quantization ?? ''}`
    case 'EXTENSIONS': return `has extensions ${list(p.extensions)}, the task needs ${list(req.requiredExtensions)}`
    case 'DEVICE_MASK': return `runs on devices ${list(p.deviceMask)}, outside the allowed ${list(job.allowedDeviceMask)}`
    case 'SAMPLER_PROFILE': return `serves sampler profile ${p.samplerProfileVersion ?? 'none'}, not ${job.samplerProfileVersion ?? ''}`
  }
}

const sentence = (entries: Array<[string, string]>): string => entries.map(([k, why]) => `${k} ${why}`).join('; ')

export function refusalOf (pools: readonly PoolSnapshot[], job: JobSpec, reasons: Readonly<Record<string, IncompatibleReason>>): Refusal {
  const words: Record<string, string> = {}
  const serving: Array<[string, IncompatibleReason]> = []
  const servingIds = new Set<string>()
  for (const p of pools) {
    const r = reasons[keyOf(p)]
    if (r === undefined) continue
    words[keyOf(p)] = explain(p, job, r)
    if (r !== 'ENGINE' && r !== 'MODEL') { serving.push([keyOf(p), r]); servingIds.add(p.id) }
  }
  const poolId = servingIds.size === 1 ? [...servingIds][0] : undefined
  const at = poolId !== undefined ? { poolId } : {}
  const what = `model ${job.modelId} on engine ${job.engine}`
  if (serving.length === 0) {
    const configured = pools.length > 0
      ? `configured: ${sentence(pools.map((p) => [keyOf(p), `serves model ${p.modelId} on engine ${p.engine}`]))}`
      : 'no pools are configured'
    const message = `/model_ref: no pool serves ${what} (${configured}); pick a model a pool serves`
    return { code: 'INVALID_PARAMS', transient: false, message, reasons: words }
  }
  const waiting = serving.filter(([, r]) => TRANSIENT.has(r))
  if (waiting.length === 0) {
    const why = sentence(serving.map(([k]) => [k, words[k]!]))
    const message = `no pool serving ${what} can ever take this task: ${why}; change the request`
    return { code: 'INVALID_PARAMS', transient: false, message, reasons: words, ...at }
  }
  const code: NoCapacityCode = waiting.every(([, r]) => r === 'NOT_READY' || r === 'DRAINING')
    ? 'POOL_UNREADY'
    : waiting.every(([, r]) => r === 'VRAM') ? 'REPLICA_EXHAUSTED' : 'POOL_UNAVAILABLE'
  const why = sentence(waiting.map(([k]) => [k, words[k]!]))
  return { code, transient: true, message: `no pool serving ${what} can take this task now: ${why}; retry later`, reasons: words, ...at }
}
