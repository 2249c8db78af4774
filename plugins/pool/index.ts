import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import type {} from '../../sdk/index.js'
import type {} from '../catalog/index.js'
import type {} from '../metrics/index.js'
import type {} from '../models/index.js'
import { createPoolRegistry, type PoolRegistry, type PoolState } from './registry.js'
import { replicaIdsOf, type PoolConfig } from '../../sdk/pool-config.js'
import { provisionProgress } from './provision-progress.js'
import { PoolManager, replicaIdOf, type Binder, type ManagerDeps, type Narrate } from './manager.js'
import { createModelGate } from './model-gate.js'
import { createRefGuard } from './ref-guard.js'
import { probeHealth, spawnReplica } from './replica.js'
import { PidFiles } from './pidfile.js'
import { drainOnRetire } from './retire.js'
import { measurePerf } from './perf.js'
import { realTimers } from './launch.js'
import { discoverGpus, type GpuDevice } from '../../lib/gpu.js'
import { healthBody, replicaIdle, startGpuSampler, type PoolHealth } from './observe.js'

export interface PoolStatus {
  id: string
  engine: string
  state: PoolState
  live: boolean
  ready: boolean
  draining: boolean
  last_error: string | null
}

export interface Pool {
  readonly registry: PoolRegistry
  readonly configs: readonly PoolConfig[]
  status (poolId: string): PoolStatus | undefined
  list (): PoolStatus[]
  /** True only when every configured pool is Ready (an empty configuration is ready). */
  allReady (): boolean
  /** `GET /v1/pools/{id}/health` with the pool's queue depth (the data plane's); undefined for an unknown pool. */
  health (poolId: string, queueDepth?: number): PoolHealth | undefined
  manager (poolId: string): PoolManager | undefined
}

declare module 'fastify' {
  interface FastifyInstance { pool: Pool }
}

export interface PoolOptions {
  pools: PoolConfig[]
  /** Variables engines inherit beyond `ENGINE_ENV` (manifest `policy.engine_env_passthrough`). */
  engineEnv?: readonly string[]
  /**
   * Directories besides the catalog root that model refs sent over the API may resolve into
   * (manifest `catalog.model_dirs`, issue 10 #1); the pools' configured refs are not confined.
   */
  modelDirs?: readonly string[]
  /** Where engine PID files go (manifest `server.run_dir`); absent: none are written. */
  runDir?: string
  /** Test seams: replace how replicas are spawned and probed, timers, jitter, GPU discovery. */
  overrides?: Partial<Pick<ManagerDeps, 'spawn' | 'probe' | 'measurePerf' | 'timers' | 'nowMs' | 'random'>> & {
    discover?: () => Promise<GpuDevice[]>
    gpuSampleMs?: number
  }
}

/** Binds each Ready replica to the adapter host when an adapter serves the pool's engine. */
function adapterBinder (app: FastifyInstance, pool: PoolConfig): Binder {
  return {
    async bind (replicaId, l, first) {
      const factory = app.adapters.get(pool.engine)
      if (!factory) return
      const adapter = factory.create({ poolId: pool.id, replicaId, baseUrl: new URL(l.prepared.health.url).origin, pool })
      await (first ? app.adapterHost.bind(pool.id, replicaId, adapter) : app.adapterHost.rebind(pool.id, replicaId, adapter))
    },
    async unbind (replicaId) { await app.adapterHost.unbind(pool.id, replicaId) },
  }
}

/**
 * The pool manager stage: one registry entry and one manager per configured pool. Pools
 * preload in the background once the app is ready (boot is never blocked; `/readyz` stays
 * 503 until every pool passed its three gates), are supervised, and drain/reload on request.
 */
const poolPlugin: FastifyPluginAsync<PoolOptions> = async (app, opts) => {
  const registry = createPoolRegistry()
  const configs = opts.pools ?? []
  const o = opts.overrides ?? {}
  const managers = new Map<string, PoolManager>()
  const pidFiles = opts.runDir !== undefined ? new PidFiles(opts.runDir) : undefined
  const spawnEngine = o.spawn ?? ((prepared, id) => spawnReplica(prepared, id, opts.engineEnv ?? []))
  const narrate: Narrate = (fields, human, level) => app.narration.narrate(fields, human, level)
  for (const c of configs) {
    registry.upsert(c.id, { engine: c.engine, device_mask: [...c.devices], slots_total: c.slots_total ?? 0 })
    const refGuard = createRefGuard({ parse: (ref) => app.models.parse(ref), root: app.catalog.store.root, dirs: opts.modelDirs ?? [], engine: c.engine })
    const inFlight = (): number => Math.max(registry.getActiveLeases(c.id), app.adapterHost.replicas(c.id).reduce((n, r) => n + r.inFlight, 0))
    managers.set(c.id, new PoolManager(c, {
      registry,
      narrate,
      modelGate: createModelGate(app.models, c.engine, refGuard),
      refGuard,
      provisionerFor: (engine, mode) => app.provisioners.providerFor(engine, mode),
      progress: provisionProgress(c.id, narrate),
      spawn: (prepared, id) => {
        const r = spawnEngine(prepared, id)
        pidFiles?.track(pidKey(c.id, id), r, (err) => {
          app.narration.narrate({ actor: 'pool-managerd', action: 'spawn', target: c.id, pid: r.pid, error: err.message },
            `cannot write the PID file of pool ${c.id}`, 'warn')
        })
        return r
      },
      probe: o.probe ?? probeHealth,
      measurePerf: o.measurePerf ?? ((p) => measurePerf(p)),
      timers: o.timers ?? realTimers,
      nowMs: o.nowMs ?? Date.now,
      ...(o.random ? { random: o.random } : {}),
      binder: adapterBinder(app, c),
      inFlight,
      replicaIdle: (r) => replicaIdle(r, inFlight),
    }))
  }
  const status = (id: string): PoolStatus | undefined => {
    const e = registry.get(id)
    const c = configs.find((p) => p.id === id)
    if (!e || !c) return undefined
    return { id, engine: c.engine, state: e.state, live: e.health.live, ready: e.health.ready, draining: e.draining, last_error: e.last_error }
  }
  const list = (): PoolStatus[] => configs.map((c) => status(c.id)!)
  app.decorate('pool', {
    registry,
    configs,
    status,
    list,
    allReady: () => list().every((p) => p.ready),
    health: (id, queueDepth = 0) => {
      const m = managers.get(id)
      return m ? healthBody(registry.get(id)!, m, queueDepth) : undefined
    },
    manager: (id) => managers.get(id),
  })
  const unsubscribe = app.catalog.subscribe(drainOnRetire(configs, managers, registry, (fields, human, level) => app.narration.narrate(fields, human, level)))
  let stopSampler = (): void => {}
  app.addHook('onReady', async () => {
    if (pidFiles) await reapOrphans(app, pidFiles, configs)
    for (const m of managers.values()) m.start()
    if (configs.some((c) => c.provisioning.compute_policy !== 'cpu-only')) {
      stopSampler = startGpuSampler(registry, app.metrics, o.discover ?? discoverGpus, o.gpuSampleMs ?? 15_000)
    }
  })
  app.addHook('onClose', async () => {
    unsubscribe()
    stopSampler()
    await Promise.all([...managers.values()].map((m) => m.close()))
  })
}

/** A replica's PID file name: the pool id for its first replica (as before replica sets), else the replica id. */
const pidKey = (poolId: string, replicaId: string): string => replicaId === replicaIdOf(poolId, 0) ? poolId : replicaId

/** Engines an earlier run left behind (it crashed or was killed) would hold ports and VRAM. */
async function reapOrphans (app: FastifyInstance, pidFiles: PidFiles, configs: readonly PoolConfig[]): Promise<void> {
  const keys = configs.flatMap((c) => replicaIdsOf(c).map((id) => ({ c, key: pidKey(c.id, id) })))
  for (const { c, key } of keys) {
    const orphan = await pidFiles.reap(key)
    if (!orphan) continue
    app.narration.narrate({ actor: 'pool-managerd', action: 'reap', target: c.id, pid: orphan.pid, killed: orphan.killed, reason: orphan.reason },
      orphan.killed
        ? `stops engine pid ${orphan.pid} of pool ${c.id} left running by an earlier run`
        : `leaves pid ${orphan.pid} of pool ${c.id} alone: ${orphan.reason}`.slice(0, 100),
      orphan.killed ? 'warn' : 'info')
  }
}

export default fp(poolPlugin, {
  name: NAMES.pool,
  fastify: '5.x',
  dependencies: [NAMES.provisioners, NAMES.adapters, NAMES.models],
  decorators: { fastify: ['provisioners', 'adapters', 'adapterHost', 'models', 'narration', 'metrics', 'catalog'] },
})

export type { PoolHealth } from './observe.js'
export type { PoolRegistry, PoolEntry, PoolState } from './registry.js'
