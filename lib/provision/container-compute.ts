/**
 * Decision 1 for a container engine: which GPUs the container gets. cpu-only never looks;
 * otherwise the host's GPUs are discovered and the pool's device mask must be present:
 * gpu-required fails fast without it, cpu-fallback says so and runs the container without GPUs.
 */
import type { PoolConfig } from '../../sdk/pool-config.js'
import { describeGpus, discoverGpus, missingDevices, type GpuDevice } from '../gpu.js'
import type { ContainerNarrate } from './container.js'
import { ORC_ERR_CONTAINER_GPU_REQUIRED } from './container-errors.js'

export interface ContainerCompute { mode: 'gpu' | 'cpu', devices: number[] }

export async function containerCompute (
  pool: PoolConfig,
  discover: () => Promise<GpuDevice[]> = discoverGpus,
  narrate?: ContainerNarrate
): Promise<ContainerCompute> {
  const policy = pool.provisioning.compute_policy
  if (policy === 'cpu-only') return { mode: 'cpu', devices: [] }
  const gpus = await discover()
  const missing = missingDevices(pool.devices, gpus)
  const problem = gpus.length === 0
    ? 'no GPU was found on this host'
    : missing.length > 0 ? `device${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of the pool's mask not present (found ${describeGpus(gpus)})` : null
  if (problem === null) {
    // an empty mask (cpu-fallback allows one) means the GPUs found, named, never an implicit "all" (D18)
    const devices = pool.devices.length > 0 ? [...pool.devices] : gpus.map((g) => g.id)
    narrate?.('prepare', `pool ${pool.id} container gets GPU ${devices.join(', ')}`, { compute_mode: 'gpu', devices })
    return { mode: 'gpu', devices }
  }
  if (policy === 'gpu-required') throw new ORC_ERR_CONTAINER_GPU_REQUIRED(pool.id, problem)
  narrate?.('fallback', `pool ${pool.id} container runs without GPU: ${problem}`.slice(0, 100), { compute_mode: 'cpu', reason: problem }, 'warn')
  return { mode: 'cpu', devices: [] }
}
