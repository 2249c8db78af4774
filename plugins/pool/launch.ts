/**
 * Starting one replica through the three gates of ORCH-3421, in order: the model is present
 * (and verified), the engine is prepared, the health probe passes. A failure names its gate,
 * and whatever was started for it is stopped again. Perf hints are measured last.
 */
import { stat } from 'node:fs/promises'
import { freemem } from 'node:os'
import type { PreparedEngine, ProvisionProgress, Provisioner } from '../../sdk/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import type { ModelGate, ResolvedModel } from './model-gate.js'
import type { Probe, Replica, SpawnReplica } from './replica.js'
import type { PerfHints } from './perf.js'
import { engineBytes, mib } from '../../lib/sizes.js'
import { GateError } from './errors.js'
import { withoutFileBytes } from './model-file.js'
import { reportedVersion } from './engine-report.js'

export interface Timers {
  set (fn: () => void, ms: number): unknown
  clear (handle: unknown): void
}

export const realTimers: Timers = {
  set: (fn, ms) => { const h = setTimeout(fn, ms); h.unref(); return h },
  clear: (h) => { clearTimeout(h as NodeJS.Timeout) },
}

export interface LaunchDeps {
  modelGate: ModelGate
  provisionerFor: (engine: string, mode: NonNullable<PoolConfig['provisioning']['mode']>) => Provisioner | undefined
  spawn: SpawnReplica
  probe: Probe
  measurePerf: (prepared: PreparedEngine) => Promise<PerfHints | null>
  timers: Timers
  nowMs: () => number
  /** Free host memory in bytes (os.freemem by default). */
  freeMemory?: () => number
  /** Every replica started, so that close() can stop those still starting. */
  track: (r: Replica) => void
  /** What the provider reports while it builds, downloads or installs (narrated by the pool stage). */
  progress?: (p: ProvisionProgress) => void
  /** Aborted when the pool closes: a build or download in flight stops with it. */
  signal?: AbortSignal
}

/** What the engine says it is: its own version and compute mode, or null where it does not say (issue 10 #13). */
export interface Reported { version: string | null, compute_mode: 'gpu' | 'cpu' | null }

export interface Launched { model: ResolvedModel, prepared: PreparedEngine, replica: Replica, perf: PerfHints | null, reported: Reported }

/** The default mode per engine (D13): llama.cpp builds from source, the others run containers. */
export function modeOf (pool: PoolConfig): NonNullable<PoolConfig['provisioning']['mode']> {
  return pool.provisioning.mode ?? (pool.engine === 'llamacpp' ? 'source' : 'container')
}

/** Health paths per engine for engines attached in `external` mode (spec pools §1.8). */
const HEALTH_PATHS: Record<string, string> = { vllm: '/v1/models', triton: '/v2/health/ready' }

/** An external engine needs no provisioner: it is only an address to probe. */
export function externalEngine (pool: PoolConfig): PreparedEngine {
  const host = pool.provisioning.host.includes(':') ? `[${pool.provisioning.host}]` : pool.provisioning.host
  const port = pool.provisioning.ports?.[0] ?? 8080
  return {
    engine: pool.engine,
    // version and compute_mode are placeholders the SDK type demands (it has no "unknown"):
    // the pool records what the engine itself reports instead (Launched.reported, issue 10 #13)
    version: 'unknown',
    build_ref: null,
    digest: null,
    build_flags: null,
    mode: 'external',
    compute_mode: pool.provisioning.compute_policy === 'cpu-only' ? 'cpu' : 'gpu',
    binary_path: null,
    engine_catalog_id: null,
    bin: '',
    args: [],
    env: {},
    ports: [port],
    workdir: process.cwd(),
    health: { url: `http://${host}:${port}${HEALTH_PATHS[pool.engine] ?? '/health'}`, kind: pool.engine },
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 400)

async function prepareEngine (pool: PoolConfig, model: ResolvedModel, deps: LaunchDeps): Promise<PreparedEngine> {
  const mode = modeOf(pool)
  const provisioner = deps.provisionerFor(pool.engine, mode)
  if (!provisioner) {
    if (mode === 'external') return externalEngine(pool)
    const hint = pool.engine === 'llamacpp' ? ' (e.g. embedded, with provisioning.mode: embedded)' : ''
    throw new GateError('engine', `no enabled provider handles engine ${pool.engine} in mode ${mode}; enable one under providers${hint}`)
  }
  try {
    return await provisioner.prepare(pool, { model, ...(deps.progress ? { progress: deps.progress } : {}), ...(deps.signal ? { signal: deps.signal } : {}) })
  } catch (err) {
    throw new GateError('engine', message(err))
  }
}

/** Fails fast, before any spawn, when the model cannot fit in free host memory (spec pools §1.5, scenario 10). */
export async function checkHostMemory (model: ResolvedModel, free: () => number): Promise<void> {
  const size = (await stat(model.local_path).catch(() => undefined))?.size ?? 0
  const need = engineBytes(size)
  if (need > free()) {
    throw new GateError(
      'engine',
      `model ${model.id} needs about ${mib(need)} of host memory, but only ${mib(free())} is free; free memory or use a smaller model`
    )
  }
}

/** The engine's last two output lines for last_error, any file bytes they quote withheld (issue 10 #1). */
const lastLines = (replica: Replica): string => withoutFileBytes(replica.tail().split('\n').slice(-2).join(' | '))

/** Polls the health URL until 200, the startup timeout, or the process exiting. */
export async function waitHealthy (pool: PoolConfig, replica: Replica, deps: Pick<LaunchDeps, 'probe' | 'timers' | 'nowMs' | 'signal'>): Promise<void> {
  const { startup_timeout_ms: limit, timeout_ms: timeout } = pool.health_check
  const started = deps.nowMs()
  let exited = false
  void replica.exited.then(() => { exited = true })
  for (;;) {
    // a closed pool stops waiting (an external engine never exits to end the loop)
    if (deps.signal?.aborted) throw new GateError('health', 'the pool closed before its health check passed')
    if (exited || !replica.alive()) {
      const info = await replica.exited
      const why = info.signal ? `signal ${info.signal}` : `status ${info.code}`
      throw new GateError(
        'health',
        `engine exited (${why}) before its health check passed${replica.tail() ? `: ${lastLines(replica)}` : ''}`
      )
    }
    if (await deps.probe(replica.prepared.health.url, timeout)) return
    if (deps.nowMs() - started >= limit) throw new GateError('health', `health probe ${replica.prepared.health.url} did not pass within ${limit} ms`)
    await new Promise<void>((resolve) => {
      const h = deps.timers.set(resolve, Math.min(100, pool.health_check.interval_ms))
      void replica.exited.then(() => { deps.timers.clear(h); resolve() })
    })
  }
}

/** `confined`: the ref came from a client, so it must resolve inside the model directories (issue 10 #1). */
export interface Target { ref: string, digest: string | null, confined?: boolean }

/** The configured model (D12: `provisioning.model.ref`, else the pool's `model`) and its digest. */
export function configuredTarget (pool: PoolConfig): Target {
  return { ref: pool.provisioning.model?.ref ?? pool.model, digest: pool.provisioning.model?.checksum ?? null }
}

/** Runs the three gates for `target`; resolves with a healthy replica or rejects with a GateError. */
export async function launch (pool: PoolConfig, target: Target, replicaId: string, deps: LaunchDeps): Promise<Launched> {
  let model: ResolvedModel
  try {
    model = await deps.modelGate(target.ref, target.digest, { confined: target.confined === true })
  } catch (err) {
    throw new GateError('model', message(err))
  }
  const prepared = await prepareEngine(pool, model, deps)
  if (prepared.mode !== 'external' && prepared.compute_mode === 'cpu') await checkHostMemory(model, deps.freeMemory ?? freemem)
  const replica = deps.spawn(prepared, replicaId)
  deps.track(replica)
  try {
    await waitHealthy(pool, replica, deps)
  } catch (err) {
    await replica.stop(1000)
    throw err
  }
  const perf = await deps.measurePerf(prepared).catch(() => null)
  const reported: Reported = prepared.mode === 'external'
    ? { version: await reportedVersion(prepared), compute_mode: null }
    : { version: prepared.version, compute_mode: prepared.compute_mode }
  return { model, prepared, replica, perf, reported }
}

export { message as errorMessage }
