import type {
  AdapterHost, EngineCapability, ReplicaStatus, TaskRequest, TokenEvent, WorkerAdapter, WorkerErrorData, WorkerHealth, WorkerProps,
} from '../../core/sdk.js'

interface Binding {
  adapter: WorkerAdapter
  engineVersion: string | null
  slotsTotal: number
  ctxMax: number | null
  inFlight: number
  /** Adapters replaced by rebind, closed once their last stream ends. */
  retired: boolean
}

interface InFlight { poolId: string, binding: Binding, controller: AbortController, canceled: boolean }

const errorEvent = (data: WorkerErrorData): TokenEvent => ({ kind: 'error', data })

/**
 * The adapter host (ORCH-3600/3601): bindings per (pool, replica), replica choice, the
 * in-flight table and race-free cancel, and a capability cache read by `/v1/capabilities`.
 * Every stream it hands out ends with exactly one terminal event, whatever the adapter does.
 */
export function createAdapterHost (): AdapterHost {
  const pools = new Map<string, Map<string, Binding>>()
  const inFlight = new Map<string, InFlight>()

  const closeWhenIdle = (b: Binding): void => {
    if (b.retired && b.inFlight === 0) void b.adapter.close().catch(() => {})
  }

  const describe = async (adapter: WorkerAdapter): Promise<Binding> => {
    const [engineVersion, props] = await Promise.all([
      adapter.engineVersion().catch(() => null),
      adapter.props().catch((): WorkerProps => ({ slots_total: null, slots_free: null })),
    ])
    return { adapter, engineVersion, slotsTotal: props.slots_total ?? 1, ctxMax: props.ctx_max ?? null, inFlight: 0, retired: false }
  }

  const pick = (poolId: string, replicaId?: string): [string, Binding] | undefined => {
    const replicas = pools.get(poolId)
    if (!replicas) return undefined
    if (replicaId !== undefined) {
      const b = replicas.get(replicaId)
      return b ? [replicaId, b] : undefined
    }
    // most free slots first, then replica id: deterministic (ORCH-3012)
    return [...replicas.entries()].sort(([ia, a], [ib, b]) =>
      (b.slotsTotal - b.inFlight) - (a.slotsTotal - a.inFlight) || ia.localeCompare(ib))[0]
  }

  async function * stream (poolId: string, req: TaskRequest, o: { signal: AbortSignal, deadlineAt: number, replicaId?: string }): AsyncGenerator<TokenEvent> {
    const chosen = pick(poolId, o.replicaId)
    if (!chosen) {
      yield errorEvent({ kind: 'POOL_UNAVAILABLE', message: `no engine replica is bound for pool ${poolId}`, retriable: true, retry_after_ms: 1000, engine: req.engine })
      return
    }
    const [replicaId, binding] = chosen
    const controller = new AbortController()
    const entry: InFlight = { poolId, binding, controller, canceled: false }
    const onAbort = (): void => { entry.canceled = true; controller.abort() }
    if (o.signal.aborted) onAbort()
    else o.signal.addEventListener('abort', onAbort, { once: true })
    inFlight.set(req.task_id, entry)
    binding.inFlight++
    let tokens = 0
    let terminal = false
    try {
      for await (const event of binding.adapter.submit(req, { signal: controller.signal, deadlineAt: o.deadlineAt, poolId, replicaId })) {
        if (entry.canceled) break
        if (event.kind === 'token') tokens++
        yield event
        if (event.kind === 'end' || event.kind === 'error') { terminal = true; break }
      }
      if (!terminal && !entry.canceled) {
        terminal = true
        yield errorEvent({ kind: 'WORKER_RESET', message: 'the engine stream ended without a terminal event', retriable: false, engine: binding.adapter.engine })
      }
    } catch (err) {
      if (!entry.canceled) {
        terminal = true
        yield errorEvent({ kind: 'INTERNAL', message: `adapter failure: ${(err as Error).message}`.slice(0, 512), retriable: false, engine: binding.adapter.engine })
      }
    } finally {
      o.signal.removeEventListener('abort', onAbort)
      inFlight.delete(req.task_id)
      binding.inFlight--
      closeWhenIdle(binding)
    }
    if (!terminal) yield { kind: 'end', data: { tokens_out: tokens, decode_time_ms: 0, stop_reason: 'canceled' } }
  }

  return {
    async bind (poolId, replicaId, adapter) {
      const replicas = pools.get(poolId) ?? new Map<string, Binding>()
      if (replicas.has(replicaId)) throw new Error(`llama-orch: ${poolId}/${replicaId} is already bound; use rebind to replace its adapter`)
      replicas.set(replicaId, await describe(adapter))
      pools.set(poolId, replicas)
    },
    async rebind (poolId, replicaId, adapter) {
      const replicas = pools.get(poolId) ?? new Map<string, Binding>()
      const old = replicas.get(replicaId)
      replicas.set(replicaId, await describe(adapter))
      pools.set(poolId, replicas)
      if (old) { old.retired = true; closeWhenIdle(old) }
    },
    async unbind (poolId, replicaId) {
      const b = pools.get(poolId)?.get(replicaId)
      if (!b) return
      pools.get(poolId)!.delete(replicaId)
      if (pools.get(poolId)!.size === 0) pools.delete(poolId)
      b.retired = true
      closeWhenIdle(b)
    },
    replicas (poolId) {
      const out: ReplicaStatus[] = []
      for (const [p, replicas] of pools) {
        if (poolId !== undefined && p !== poolId) continue
        for (const [r, b] of replicas) out.push({ poolId: p, replicaId: r, engine: b.adapter.engine, engineVersion: b.engineVersion, breaker: 'closed', inFlight: b.inFlight })
      }
      return out
    },
    submit: stream,
    async cancel (_poolId, taskId) {
      const entry = inFlight.get(taskId)
      if (!entry) return
      entry.canceled = true
      entry.controller.abort()
      await entry.binding.adapter.cancel(taskId).catch(() => {})
    },
    async health (poolId): Promise<WorkerHealth> {
      const all = await Promise.all([...(pools.get(poolId)?.values() ?? [])].map((b) => b.adapter.health().catch(() => ({ live: false, ready: false }))))
      return { live: all.some((h) => h.live), ready: all.some((h) => h.ready) }
    },
    async props (poolId): Promise<WorkerProps> {
      const replicas = [...(pools.get(poolId)?.values() ?? [])]
      const total = replicas.reduce((n, b) => n + b.slotsTotal, 0)
      return { slots_total: total, slots_free: replicas.reduce((n, b) => n + Math.max(0, b.slotsTotal - b.inFlight), 0) }
    },
    capabilities () {
      const byEngine = new Map<string, EngineCapability>()
      for (const replicas of pools.values()) {
        for (const b of replicas.values()) {
          const e = byEngine.get(b.adapter.engine) ?? { engine: b.adapter.engine, ctx_max: 0, supported_workloads: ['completion'], rate_limits: {}, features: { streaming: true, cancel: true }, concurrency: 0 }
          e.ctx_max = Math.max(e.ctx_max, b.ctxMax ?? 0)
          e.concurrency = (e.concurrency ?? 0) + b.slotsTotal
          if (b.engineVersion) e.engine_version = b.engineVersion
          byEngine.set(b.adapter.engine, e)
        }
      }
      return [...byEngine.values()].sort((a, b) => a.engine.localeCompare(b.engine))
    },
  }
}
