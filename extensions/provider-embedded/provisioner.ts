/**
 * The embedded provisioner (decision 2): `{engine: llamacpp, mode: embedded}`. Nothing is
 * built or downloaded: the engine is node-llama-cpp's prebuilt binary, run in a child process
 * per replica (worker.ts) that speaks the llama-server API on a loopback port. `prepare` turns
 * a pool and its resolved model into the spawn description the pool manager starts.
 */
import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Plan, PreparedEngine, Provisioner } from '../../sdk/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { addonPath, engineDigest, engineVersion } from './version.js'
import { EMBEDDED_HANDLES } from './handles.js'
import { describeGpus, type GpuDevice } from '../../lib/gpu.js'
import { computeVerdict as compute, type ComputeVerdict } from '../../lib/provision/compute.js'
import { engineBytes } from '../../lib/sizes.js'
import { freePort, urlHost } from '../../lib/provision/ports.js'
import { ORC_ERR_EMBEDDED_FLAG, ORC_ERR_EMBEDDED_GPU_REQUIRED, ORC_ERR_EMBEDDED_NO_MODEL } from './errors.js'

export interface EmbeddedProvisionerOptions {
  /** Decode threads when the pool's flags do not say (`--threads N`); default from the core count. */
  threads?: number
  discover?: () => Promise<GpuDevice[]>
  /** Narrates the compute-policy verdict (a fallback is never silent, decision 1). */
  narrate?: (fields: { actor: 'engine-provisioner', action: string, target: string, [k: string]: unknown }, human: string, level?: 'info' | 'warn') => void
  cores?: number
  /**
   * Records the engine build in the catalog (spec §2.8, ORCH-3440/3441) and returns the
   * EngineEntry id for `PreparedEngine.engine_catalog_id`.
   */
  registerEngine?: (engine: { engine: string, version: string, digest: string | null, artifacts: string[] }) => Promise<string>
}

const HERE = fileURLToPath(import.meta.url)
/** worker.ts under a TypeScript loader (tests), worker.js from dist/ (production). */
export const WORKER_ENTRY = join(dirname(HERE), `worker${extname(HERE)}`)

/** 1 thread on ≤ 2 cores (more threads than free cores wreck ggml's decode, spec §3), else half the cores up to 8. */
export function defaultThreads (cores = availableParallelism()): number {
  return cores <= 2 ? 1 : Math.min(8, Math.floor(cores / 2))
}

/** `--name N` or `-s N` from an engine flag list. */
export function flagValue (flags: readonly string[] | null | undefined, ...names: string[]): number | undefined {
  if (!flags) return undefined
  for (let i = 0; i < flags.length - 1; i++) {
    if (names.includes(flags[i]!)) {
      const n = Number(flags[i + 1])
      if (Number.isInteger(n) && n > 0) return n
      throw new ORC_ERR_EMBEDDED_FLAG(flags[i]!, String(flags[i + 1]))
    }
  }
  return undefined
}

/** Decision 1 for the embedded worker: the GPUs must hold the model (`needBytes`) or the pool runs on CPU (cpu-fallback). */
export async function computeVerdict (pool: PoolConfig, o: EmbeddedProvisionerOptions, needBytes?: number): Promise<ComputeVerdict> {
  return await compute(pool, {
    ...(o.discover ? { discover: o.discover } : {}),
    ...(needBytes !== undefined ? { needBytes } : {}),
    onGpu: (gpus) => o.narrate?.({ actor: 'engine-provisioner', action: 'prepare', target: pool.id, compute_mode: 'gpu', gpus: describeGpus(gpus) },
      `pool ${pool.id} runs on GPU: ${describeGpus(gpus)}`.slice(0, 100)),
    onFallback: ({ problem, vramShort }) => o.narrate?.(
      { actor: 'engine-provisioner', action: 'fallback', target: pool.id, compute_mode: 'cpu', reason: problem },
      `pool ${pool.id} falls back to CPU: ${vramShort ? 'not enough free VRAM' : 'no usable GPU'} (compute_policy cpu-fallback)`, 'warn'),
    refuse: ({ problem, vramShort }) => new ORC_ERR_EMBEDDED_GPU_REQUIRED(
      pool.id,
      problem,
      vramShort ? 'free VRAM, use a smaller model or more devices' : 'install the GPU driver and check `devices`'
    ),
  })
}

export function createEmbeddedProvisioner (o: EmbeddedProvisionerOptions = {}): Provisioner {
  return {
    name: 'embedded',
    handles: EMBEDDED_HANDLES,
    plan (pool): Plan {
      const ref = pool.provisioning.model?.ref ?? pool.model
      return {
        pool_id: pool.id,
        steps: [
          { kind: 'preflight', detail: `node-llama-cpp prebuilt binary (${engineVersion()}); never a source build` },
          { kind: 'compute-policy', detail: `${pool.provisioning.compute_policy}: decides gpu or cpu from the GPUs found` },
          { kind: 'model-fetch', detail: `model ${ref} via the model provisioner` },
          { kind: 'run', detail: `one worker process per replica, llama-server API on ${pool.provisioning.host}` },
        ],
      }
    },
    async prepare (pool, opts = {}): Promise<PreparedEngine> {
      if (!opts.model) throw new ORC_ERR_EMBEDDED_NO_MODEL(pool.id)
      const size = (await stat(opts.model.local_path).catch(() => undefined))?.size
      const compute = await computeVerdict(pool, o, size === undefined ? undefined : engineBytes(size))
      const flags = pool.provisioning.flags
      const threads = flagValue(flags, '--threads', '-t') ?? o.threads ?? defaultThreads(o.cores)
      const parallel = pool.slots_total ?? flagValue(flags, '--parallel', '-np') ?? 1
      const ctx = pool.ctx ?? flagValue(flags, '--ctx-size', '-c') ?? 2048
      const host = pool.provisioning.host
      const port = pool.provisioning.ports?.[0] ?? await freePort(host)
      const loader = extname(HERE) === '.ts' ? process.execArgv : []
      const env: Record<string, string> = { ...(pool.provisioning.env ?? {}) }
      if (compute.mode === 'gpu' && compute.devices.length > 0) env.CUDA_VISIBLE_DEVICES = compute.devices.join(',')
      const args = [
        ...loader, WORKER_ENTRY, '--model', opts.model.local_path, '--host', host, '--port', String(port),
        '--threads', String(threads), '--ctx-size', String(ctx), '--parallel', String(parallel), '--alias', pool.model,
        '--metrics', '--gpu', compute.mode === 'gpu' ? 'auto' : 'off',
        ...(pool.provisioning.compute_policy === 'gpu-required' ? ['--require-gpu'] : []), '--exit-on-stdin-close',
      ]
      const addon = addonPath()
      const catalogId = await o.registerEngine?.({
        engine: 'llamacpp',
        version: engineVersion(),
        digest: engineDigest(),
        artifacts: [WORKER_ENTRY, ...(addon ? [addon] : [])],
      })
      return {
        engine: 'llamacpp',
        version: engineVersion(),
        build_ref: null,
        digest: engineDigest(),
        build_flags: [`threads=${threads}`, `parallel=${parallel}`, `ctx=${ctx}`, `gpu=${compute.mode}`],
        mode: 'embedded',
        compute_mode: compute.mode,
        binary_path: null,
        engine_catalog_id: catalogId ?? null,
        bin: process.execPath,
        args,
        env,
        ports: [port],
        workdir: process.cwd(),
        health: { url: `http://${urlHost(host)}:${port}/health`, kind: 'llamacpp' },
      }
    },
  }
}
