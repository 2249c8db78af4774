/**
 * Placement (spec api-and-core.md §4.3, ORCH-3010..3012, ORCH-3404, ORCH-3411): a feasibility
 * prefilter, then a deterministic score. Pure: the same inputs always give the same decision,
 * whatever the order of the pools. No Fastify import, no clock, no I/O.
 */
export type Priority = 'interactive' | 'batch'
export type PlacementPolicy = 'vram-least-loaded' | 'predicted-end'

export interface PoolSnapshot {
  id: string
  replicaId?: string
  engine: string
  engineVersion?: string
  modelId: string
  live: boolean
  ready: boolean
  draining: boolean
  slotsTotal: number
  slotsFree: number
  vramTotalBytes: number
  vramFreeBytes: number
  computeCapability?: string
  deviceMask?: number[]
  ctxMax: number
  quantizations?: string[]
  extensions?: string[]
  samplerProfileVersion?: string
  perfTokensPerS?: number
  firstTokenMs?: number
  queueLen: number
}

export interface JobSpec {
  engine: string
  modelId: string
  requiredCtx: number
  priority: Priority
  expectedTokens?: number
  estKvBytes?: number
  samplerProfileVersion?: string
  allowedDeviceMask?: number[]
  requirements?: { minVramBytes?: number, quantization?: string, minComputeCap?: string, requiredExtensions?: string[] }
}

export type IncompatibleReason =
  | 'ENGINE' | 'MODEL' | 'NOT_READY' | 'DRAINING' | 'CTX' | 'VRAM' | 'VRAM_TOTAL' | 'COMPUTE_CAP' | 'QUANT' | 'EXTENSIONS' | 'DEVICE_MASK'
  | 'SAMPLER_PROFILE'

export type PlacementDecision =
  | { kind: 'assigned', poolId: string, replicaId?: string, affinity: boolean }
  | { kind: 'no_capacity', reasons: Record<string, IncompatibleReason> }

/** The public code a `no_capacity` decision maps to (§4.3.2, §6 D18; refusal.ts). */
export type NoCapacityCode = 'POOL_UNAVAILABLE' | 'POOL_UNREADY' | 'INVALID_PARAMS' | 'REPLICA_EXHAUSTED'

/** A snapshot's key in `no_capacity` reasons: `pool` or `pool/replica`. */
export const keyOf = (p: PoolSnapshot): string => p.replicaId === undefined ? p.id : `${p.id}/${p.replicaId}`

/** "8.6" ≥ "8.0", compared numerically as major.minor; an unparsable value fails. */
export function capAtLeast (have: string | undefined, want: string): boolean {
  const parse = (s: string): [number, number] | undefined => {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(s.trim())
    return m ? [Number(m[1]), Number(m[2] ?? 0)] : undefined
  }
  const h = have === undefined ? undefined : parse(have)
  const w = parse(want)
  if (!h || !w) return false
  return h[0] > w[0] || (h[0] === w[0] && h[1] >= w[1])
}

/** The first requirement the pool fails, or undefined when it is feasible. */
export function incompatibility (p: PoolSnapshot, job: JobSpec): IncompatibleReason | undefined {
  if (p.engine !== job.engine) return 'ENGINE'
  if (p.modelId !== job.modelId) return 'MODEL'
  if (p.draining) return 'DRAINING'
  if (!p.live || !p.ready) return 'NOT_READY'
  if (job.requiredCtx > p.ctxMax) return 'CTX'
  const req = job.requirements ?? {}
  // free VRAM comes back as tasks end; a device that is too small stays too small
  if (p.vramTotalBytes < (req.minVramBytes ?? 0)) return 'VRAM_TOTAL'
  if (p.vramFreeBytes < (job.estKvBytes ?? 0)) return 'VRAM'
  if (req.minComputeCap !== undefined && !capAtLeast(p.computeCapability, req.minComputeCap)) return 'COMPUTE_CAP'
  if (req.quantization !== undefined && !(p.quantizations ?? []).includes(req.quantization)) return 'QUANT'
  if (req.requiredExtensions && !req.requiredExtensions.every((e) => (p.extensions ?? []).includes(e))) return 'EXTENSIONS'
  if (job.allowedDeviceMask !== undefined) {
    // no spill across masks (OC-CORE-1011): every device of the pool must be allowed
    const allowed = new Set(job.allowedDeviceMask)
    if (p.deviceMask === undefined || !p.deviceMask.every((d) => allowed.has(d))) return 'DEVICE_MASK'
  }
  if (job.samplerProfileVersion !== undefined && p.samplerProfileVersion !== job.samplerProfileVersion) return 'SAMPLER_PROFILE'
  return undefined
}

const cmpStr = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0
const cmpTieIds = (a: PoolSnapshot, b: PoolSnapshot): number => cmpStr(a.id, b.id) || cmpStr(a.replicaId ?? '', b.replicaId ?? '')

/** ORCH-3012 with affinity first: affine → most free VRAM → fewest active slots → shortest queue → ids. */
function vramLeastLoaded (affine: (p: PoolSnapshot) => number) {
  return (a: PoolSnapshot, b: PoolSnapshot): number =>
    affine(a) - affine(b) ||
    b.vramFreeBytes - a.vramFreeBytes ||
    (a.slotsTotal - a.slotsFree) - (b.slotsTotal - b.slotsFree) ||
    a.queueLen - b.queueLen ||
    cmpTieIds(a, b)
}

/** ORCH-3404 (opt-in): earliest predicted end; ties by affinity, load, VRAM headroom, speed, ids. */
function predictedEnd (affine: (p: PoolSnapshot) => number, job: JobSpec) {
  const end = (p: PoolSnapshot): number => {
    const tps = p.perfTokensPerS ?? 0
    const decode = tps > 0 ? ((job.expectedTokens ?? 0) / tps) * 1000 : Number.MAX_SAFE_INTEGER
    return (p.firstTokenMs ?? 0) + decode
  }
  return (a: PoolSnapshot, b: PoolSnapshot): number =>
    end(a) - end(b) ||
    affine(a) - affine(b) ||
    (a.slotsTotal - a.slotsFree) - (b.slotsTotal - b.slotsFree) ||
    (b.vramFreeBytes - (job.estKvBytes ?? 0)) - (a.vramFreeBytes - (job.estKvBytes ?? 0)) ||
    (b.perfTokensPerS ?? 0) - (a.perfTokensPerS ?? 0) ||
    cmpTieIds(a, b)
}

export interface DecideOptions {
  policy?: PlacementPolicy
  /** The session's affine pool (and replica), already checked for TTL and kv_hint by the caller. */
  affinity?: { poolId: string, replicaId?: string }
}

export function decide (pools: readonly PoolSnapshot[], job: JobSpec, o: DecideOptions = {}): PlacementDecision {
  const reasons: Record<string, IncompatibleReason> = {}
  const feasible: PoolSnapshot[] = []
  for (const p of pools) {
    const why = incompatibility(p, job)
    if (why === undefined) feasible.push(p)
    else reasons[keyOf(p)] = why
  }
  if (feasible.length === 0) return { kind: 'no_capacity', reasons }
  const aff = o.affinity
  const affine = (p: PoolSnapshot): number =>
    aff !== undefined && p.id === aff.poolId && (aff.replicaId === undefined || p.replicaId === aff.replicaId) ? 0 : 1
  const cmp = (o.policy ?? 'vram-least-loaded') === 'predicted-end' ? predictedEnd(affine, job) : vramLeastLoaded(affine)
  let best = feasible[0]!
  for (let i = 1; i < feasible.length; i++) if (cmp(feasible[i]!, best) < 0) best = feasible[i]!
  return {
    kind: 'assigned',
    poolId: best.id,
    ...(best.replicaId !== undefined ? { replicaId: best.replicaId } : {}),
    affinity: affine(best) === 0,
  }
}
