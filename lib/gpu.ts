/**
 * GPU discovery (spec pools §1.9) with systeminformation: model and VRAM total/free per
 * device. A host without GPUs (or without the vendor tools systeminformation reads) gives
 * an empty list, never an error. Devices are numbered in the order the driver lists them,
 * which is the CUDA order `CUDA_VISIBLE_DEVICES` uses.
 */
import si from 'systeminformation'

export interface GpuDevice {
  id: number
  vendor: string
  model: string
  vram_total_bytes: number
  vram_free_bytes: number | null
  vram_used_bytes: number | null
  /** Percent, when the driver reports it. */
  utilization: number | null
}

const MIB = 1024 * 1024
/** Below this a controller is a display adapter (VM consoles, BMCs), not a compute device. */
const MIN_COMPUTE_VRAM_MIB = 1024

export type GraphicsSource = () => Promise<{ controllers: si.Systeminformation.GraphicsControllerData[] }>

export async function discoverGpus (graphics: GraphicsSource = () => si.graphics()): Promise<GpuDevice[]> {
  let controllers: si.Systeminformation.GraphicsControllerData[]
  try {
    controllers = (await graphics()).controllers
  } catch {
    return []
  }
  return controllers
    .filter((c) => (c.memoryTotal ?? c.vram ?? 0) >= MIN_COMPUTE_VRAM_MIB)
    .map((c, id) => {
      const total = (c.memoryTotal ?? c.vram ?? 0) * MIB
      const used = c.memoryUsed !== undefined ? c.memoryUsed * MIB : null
      const free = c.memoryFree !== undefined ? c.memoryFree * MIB : used !== null ? total - used : null
      return {
        id,
        vendor: c.vendor,
        model: c.model || c.name || 'unknown GPU',
        vram_total_bytes: total,
        vram_free_bytes: free,
        vram_used_bytes: used ?? (free !== null ? total - free : null),
        utilization: typeof c.utilizationGpu === 'number' ? c.utilizationGpu : null,
      }
    })
}

/** Devices of the mask that discovery did not find (scenario 21: preload fails fast naming them). */
export function missingDevices (mask: readonly number[], found: readonly GpuDevice[]): number[] {
  const ids = new Set(found.map((d) => d.id))
  return mask.filter((d) => !ids.has(d))
}

/** A one-line summary for narration: `0: NVIDIA RTX 4090 (24.0 GiB, 22.1 GiB free)`. */
export function describeGpus (gpus: readonly GpuDevice[]): string {
  if (gpus.length === 0) return 'no GPU'
  const gib = (b: number): string => `${(b / 1024 / MIB).toFixed(1)} GiB`
  return gpus.map((g) => `${g.id}: ${g.model} (${gib(g.vram_total_bytes)}${g.vram_free_bytes !== null ? `, ${gib(g.vram_free_bytes)} free` : ''})`).join('; ')
}
