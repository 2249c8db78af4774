/**
 * Decision 1 for a container engine (lib/provision/compute.ts): which GPUs the container gets;
 * gpu-required fails fast without them, cpu-fallback says so and runs it without GPUs.
 */
import type { PoolConfig } from '../../sdk/pool-config.js'
import { discoverGpus, type GpuDevice } from '../gpu.js'
import { computeVerdict, type ComputeVerdict } from './compute.js'
import type { ContainerNarrate } from './container.js'
import { ORC_ERR_CONTAINER_GPU_REQUIRED } from './container-errors.js'

export type ContainerCompute = ComputeVerdict

export async function containerCompute (
  pool: PoolConfig,
  discover: () => Promise<GpuDevice[]> = discoverGpus,
  narrate?: ContainerNarrate
): Promise<ContainerCompute> {
  return await computeVerdict(pool, {
    discover,
    onGpu: (_gpus, devices) => narrate?.('prepare', `pool ${pool.id} container gets GPU ${devices.join(', ')}`, { compute_mode: 'gpu', devices }),
    onFallback: ({ problem }) =>
      narrate?.('fallback', `pool ${pool.id} container runs without GPU (compute_policy cpu-fallback)`, { compute_mode: 'cpu', reason: problem }, 'warn'),
    refuse: ({ problem }) => new ORC_ERR_CONTAINER_GPU_REQUIRED(pool.id, problem),
  })
}
