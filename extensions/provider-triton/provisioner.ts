/**
 * NVIDIA Triton (with TensorRT-LLM) in a container (spec pools §2.6): `tritonserver` on the
 * model repository mounted read-only, HTTP on 8000 (the API and health), gRPC on 8001 and
 * metrics on 8002 published when the pool gives `ports[1]` and `ports[2]`. Determinism lives
 * in the repository's model configs (one instance, no dynamic batching): they are read and any
 * departure is said before the run, since the mount is read-only and not ours to change.
 */
import createError from '@fastify/error'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MODEL_MOUNT, type ContainerEngine } from '../../lib/provision/container-provider.js'

export const ORC_ERR_TRITON_MODEL_REPO = createError<[string, string]>(
  'ORC_ERR_TRITON_MODEL_REPO',
  'pool %s: Triton serves a model repository, a directory of <model>/config.pbtxt, but %s is a file; point provisioning.model.ref at the repository directory',
  400
)

/** What a model config does that breaks byte-exact replays, one sentence per finding. */
export function configNotes (model: string, config: string): string[] {
  const notes: string[] = []
  if (/\bdynamic_batching\s*\{/.test(config)) notes.push(`Triton model ${model} uses dynamic_batching: batches vary, so outputs may too`)
  const group = /\binstance_group\s*\[([\s\S]*?)\]/.exec(config)?.[1]
  if (group !== undefined) {
    const count = [...group.matchAll(/\bcount\s*:\s*(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)
    const groups = (group.match(/\{/g) ?? []).length
    if (count > 1 || groups > 1) notes.push(`Triton model ${model} runs ${Math.max(count, groups)} instances; one instance_group of count 1 is deterministic`)
  }
  return notes
}

/** Triton's own version from the NGC image's environment, with TensorRT-LLM's when the image says it. */
function tritonVersion (env: Record<string, string>): string | null {
  const v = env.TRITON_SERVER_VERSION ?? env.NVIDIA_TRITON_SERVER_VERSION
  if (v === undefined) return null
  const trt = env.TRTLLM_VERSION ?? env.TRT_LLM_VERSION ?? env.TENSORRT_LLM_VERSION
  // the same shape the Triton adapter reports with its trtllm_version option
  return trt ? `${v}+trtllm-${trt}` : v
}

export const TRITON_ENGINE: ContainerEngine = {
  engine: 'triton',
  label: 'Triton',
  exampleImage: 'nvcr.io/nvidia/tritonserver',
  containerPorts: [8000, 8001, 8002],
  healthPath: '/v2/health/ready',
  reservedFlags: ['--model-repository', '--model-store', '--http-port', '--grpc-port', '--metrics-port'],
  // TensorRT-LLM's multi-GPU workers talk over shared memory (NVIDIA's examples use 2g)
  multiGpuFlags: ['--shm-size', '2g'],
  version: (info) => tritonVersion(info.env),
  checkModel (pool, ctx) {
    if (!ctx.isDir) throw new ORC_ERR_TRITON_MODEL_REPO(pool.id, ctx.hostPath)
  },
  async notes (_pool, ctx) {
    const entries = await readdir(ctx.hostPath, { withFileTypes: true }).catch(() => [])
    const notes: string[] = []
    for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const config = await readFile(join(ctx.hostPath, e.name, 'config.pbtxt'), 'utf8').catch(() => null)
      if (config !== null) notes.push(...configNotes(e.name, config))
    }
    return notes
  },
  args: (pool) => ['tritonserver', `--model-repository=${MODEL_MOUNT}`, ...(pool.provisioning.flags ?? [])],
}
