/**
 * Hugging Face TGI in a container (spec pools §2.6): `text-generation-launcher` (the image's
 * entrypoint) on the model mounted read-only, sharded over the pool's GPUs, on port 80 as the
 * image expects.
 */
import { hasFlag, type ContainerEngine } from '../../lib/provision/container-provider.js'

const PORT = 80

export const TGI_ENGINE: ContainerEngine = {
  engine: 'tgi',
  label: 'TGI',
  exampleImage: 'ghcr.io/huggingface/text-generation-inference',
  containerPorts: [PORT],
  healthPath: '/health',
  reservedFlags: ['--model-id', '--hostname', '--port'],
  // NCCL between the shards needs more than the default 64 MiB of /dev/shm (TGI's own docs use 1g)
  multiGpuFlags: ['--shm-size', '1g'],
  args (pool, ctx) {
    const flags = pool.provisioning.flags ?? []
    const gpus = ctx.compute.mode === 'gpu' ? ctx.compute.devices.length : 0
    const limit = pool.ctx != null && !hasFlag(flags, '--max-total-tokens')
    return [
      '--model-id', ctx.modelPath, '--hostname', '0.0.0.0', '--port', String(PORT),
      ...(gpus > 1 && !hasFlag(flags, '--num-shard') ? ['--num-shard', String(gpus)] : []),
      // TGI wants the prompt limit below the total one; leaving it out makes it derive one from the model, which may exceed ctx
      ...(limit ? ['--max-total-tokens', String(pool.ctx)] : []),
      ...(limit && pool.ctx! > 1 && !hasFlag(flags, '--max-input-tokens') ? ['--max-input-tokens', String(pool.ctx! - 1)] : []),
      ...flags,
    ]
  },
}
