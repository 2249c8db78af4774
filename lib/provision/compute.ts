/**
 * Decision 1 for every provider that runs an engine on this host: which GPUs it gets.
 * cpu-only never looks; otherwise the host's GPUs are discovered and the pool's device mask
 * must be present (and, with `needBytes`, hold the model in free VRAM, spec pools §1.5):
 * gpu-required fails fast without them, cpu-fallback runs on CPU and says why. An empty mask
 * means the GPUs found, each named, never an implicit "all" (D18).
 */
import type { PoolConfig } from '../../sdk/pool-config.js'
import { describeGpus, discoverGpus, missingDevices, type GpuDevice } from '../gpu.js'
import { mib } from '../sizes.js'

export interface ComputeVerdict { mode: 'gpu' | 'cpu', devices: number[] }

/** Why the GPUs cannot serve the pool; `vramShort`: they exist but their free VRAM is too small. */
export interface ComputeProblem { problem: string, vramShort: boolean }

export interface ComputeOptions {
  discover?: () => Promise<GpuDevice[]>
  /** Bytes the engine will need on the GPUs (model and KV); absent: not checked. */
  needBytes?: number
  /** The pool runs on these GPUs (for narration). */
  onGpu?: (gpus: GpuDevice[], devices: number[]) => void
  /** cpu-fallback takes the CPU: a fallback is never silent. */
  onFallback?: (p: ComputeProblem) => void
  /** The error a gpu-required pool fails with. */
  refuse: (p: ComputeProblem) => Error
}

/** Share of a device's free VRAM an engine may plan to use; the rest absorbs fragmentation and other tenants. */
const VRAM_HEADROOM = 0.1

export async function computeVerdict (pool: PoolConfig, o: ComputeOptions): Promise<ComputeVerdict> {
  const policy = pool.provisioning.compute_policy
  if (policy === 'cpu-only') return { mode: 'cpu', devices: [] }
  const gpus = await (o.discover ?? discoverGpus)()
  const missing = missingDevices(pool.devices, gpus)
  const chosen = pool.devices.length > 0 ? gpus.filter((g) => pool.devices.includes(g.id)) : gpus
  const free = chosen.reduce((n, g) => n + (g.vram_free_bytes ?? 0), 0)
  const noGpu = gpus.length === 0
    ? 'no suitable GPU was found (systeminformation lists none with ≥ 1 GiB VRAM)'
    : missing.length > 0
      ? `device${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of the pool's mask ` +
        `${missing.length > 1 ? 'are' : 'is'} not present (found ${describeGpus(gpus)})`
      : null
  const vramShort = noGpu === null && o.needBytes !== undefined && o.needBytes > free * (1 - VRAM_HEADROOM)
  const problem = noGpu ?? (vramShort
    ? `the model needs about ${mib(o.needBytes!)} of VRAM and ${describeGpus(chosen)} ${chosen.length > 1 ? 'have' : 'has'} ${mib(free)} free`
    : null)
  if (problem === null) {
    const devices = pool.devices.length > 0 ? [...pool.devices] : gpus.map((g) => g.id)
    o.onGpu?.(gpus, devices)
    return { mode: 'gpu', devices }
  }
  if (policy === 'gpu-required') throw o.refuse({ problem, vramShort })
  o.onFallback?.({ problem, vramShort })
  return { mode: 'cpu', devices: [] }
}
