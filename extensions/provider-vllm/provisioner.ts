/**
 * vLLM in a container (spec pools §2.6): the OpenAI-compatible server of the `vllm/vllm-openai`
 * image (its entrypoint is `vllm serve`, which takes these arguments), the model mounted
 * read-only, served under the pool's model name so that the adapter's requests match.
 */
import { hasFlag, type ContainerEngine } from '../../lib/provision/container-provider.js'

const PORT = 8000

export const VLLM_ENGINE: ContainerEngine = {
  engine: 'vllm',
  label: 'vLLM',
  exampleImage: 'vllm/vllm-openai',
  containerPorts: [PORT],
  healthPath: '/health',
  reservedFlags: ['--model', '--served-model-name', '--host', '--port'],
  // PyTorch shares tensors between the tensor-parallel workers through /dev/shm (64 MiB by default)
  multiGpuFlags: ['--shm-size', '1g'],
  // best-effort determinism (spec §2.6): one engine process, no multiprocessing front end, when the pool has a single slot
  env: (pool): Record<string, string> => (pool.slots_total ?? 1) === 1 ? { VLLM_ENABLE_V1_MULTIPROCESSING: '0' } : {},
  args (pool, ctx) {
    const flags = pool.provisioning.flags ?? []
    const gpus = ctx.compute.mode === 'gpu' ? ctx.compute.devices.length : 0
    return [
      '--model', ctx.modelPath, '--served-model-name', pool.model, '--host', '0.0.0.0', '--port', String(PORT),
      ...(gpus > 1 && !hasFlag(flags, '--tensor-parallel-size', '-tp') ? ['--tensor-parallel-size', String(gpus)] : []),
      ...(pool.ctx != null && !hasFlag(flags, '--max-model-len') ? ['--max-model-len', String(pool.ctx)] : []),
      ...(pool.slots_total !== undefined && !hasFlag(flags, '--max-num-seqs') ? ['--max-num-seqs', String(pool.slots_total)] : []),
      ...flags,
    ]
  },
}
