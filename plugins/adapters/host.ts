import type {
  AdapterHost, CapabilitySnapshot, ReplicaStatus, TaskRequest, TokenEvent, WorkerAdapter, WorkerErrorData, WorkerHealth, WorkerProps,
} from '../../sdk/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import type { Narrator } from '../../sdk/narration.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import { determinismOf } from '../../sdk/determinism.js'
import { workerError } from '../../sdk/worker-errors.js'
import { Breaker, DEFAULT_BREAKER, type BreakerPolicy } from './breaker.js'
import type { Binding } from './binding.js'
import { ORC_ERR_ADAPTERS_ALREADY_BOUND, ORC_ERR_ADAPTERS_VERSION_PIN } from './errors.js'
import { aggregateCapabilities } from './capabilities.js'
import { createScraper, type ScrapeMetrics } from './scrape.js'
import { HostRun, type HostRunHooks, type InFlight } from './host-run.js'

export interface HostDeps {
  narrator?: Narrator
  metrics?: ScrapeMetrics
  pools?: readonly PoolConfig[]
  clock?: Clock
  breaker?: BreakerPolicy
  /** Capability refresh period; 0 = off (spec: 30 s). */
  refreshMs?: number
  /** Engine metrics scrape period; 0 = off (spec: 15 s). */
  scrapeMs?: number
}

export interface AdapterHostInternal extends AdapterHost {
  /** Re-reads capabilities (and health) of every binding, probes half-open breakers. */
  refresh (): Promise<void>
  /** Scrapes every adapter's engine metrics into the contract gauges. */
  scrape (): Promise<void>
  /** Stops the timers. */
  close (): void
}

const COUNTED = new Set(['POOL_UNAVAILABLE', 'WORKER_RESET'])

/**
 * The adapter host (ORCH-3600..3604): bindings per (pool, replica) with an engine-version
 * pin, replica choice, a circuit breaker per replica, the in-flight table and race-free
 * cancel, a capability cache refreshed on bind, on health changes and on a timer, engine
 * metric scrapes, and narration (actor `adapter-host`) so adapters stay small. Every stream
 * it hands out ends with exactly one terminal event, whatever the adapter does. It never
 * resubmits (decision 10): retries live in the HTTP client.
 */
export function createAdapterHost (deps: HostDeps = {}): AdapterHostInternal {
  const pools = new Map<string, Map<string, Binding>>()
  const inFlight = new Map<string, InFlight>()
  const clock = deps.clock ?? systemClock
  const policy = deps.breaker ?? DEFAULT_BREAKER
  const say = (fields: Record<string, unknown> & { action: string, target: string }, human: string, level?: 'debug' | 'info' | 'warn' | 'error'): void => {
    deps.narrator?.narrate({ actor: 'adapter-host', ...fields }, human, level)
  }
  const poolConfig = (poolId: string): PoolConfig | undefined => deps.pools?.find((p) => p.id === poolId)
  const scraper = createScraper(deps.metrics, say)

  const closeWhenIdle = (b: Binding): void => {
    if (b.retired && b.inFlight === 0) void b.adapter.close().catch(() => {})
  }

  const describe = async (adapter: WorkerAdapter, poolId: string): Promise<Binding> => {
    const [engineVersion, caps, health] = await Promise.all([
      adapter.engineVersion().catch(() => null),
      snapshot(adapter),
      adapter.health().catch((): WorkerHealth => ({ live: false, ready: false })),
    ])
    return {
      adapter,
      engineVersion,
      caps,
      ready: health.ready,
      inFlight: 0,
      retired: false,
      breaker: new Breaker(policy),
      slotsTotal: caps.slots_total ?? poolConfig(poolId)?.slots_total ?? 1,
      ctxMax: caps.ctx_max ?? poolConfig(poolId)?.ctx ?? null,
    }
  }

  const refreshBinding = async (b: Binding, poolId: string): Promise<void> => {
    const caps = await snapshot(b.adapter)
    b.caps = caps
    b.slotsTotal = caps.slots_total ?? poolConfig(poolId)?.slots_total ?? b.slotsTotal
    b.ctxMax = caps.ctx_max ?? b.ctxMax
    if (caps.engine_version) b.engineVersion = caps.engine_version
  }

  /** Refuses a replica whose version differs from the pool's pinned one (require_same_engine_version). */
  const checkPin = (poolId: string, replicaId: string, b: Binding): void => {
    if (poolConfig(poolId)?.require_same_engine_version !== true) return
    const pinned = [...(pools.get(poolId) ?? new Map<string, Binding>()).entries()]
      .find(([r, o]) => r !== replicaId && o.engineVersion !== null)?.[1].engineVersion
    const problem = b.engineVersion === null
      ? 'its engine version cannot be read'
      : pinned !== undefined && pinned !== b.engineVersion ? `its engine version ${b.engineVersion} differs from the pinned ${pinned}` : undefined
    if (problem === undefined) return
    say({ action: 'error', target: b.adapter.engine, pool_id: poolId, replica_id: replicaId, engine_version: b.engineVersion, pinned_version: pinned ?? null },
      `refuses to bind ${poolId}/${replicaId}: ${problem}`, 'error')
    throw new ORC_ERR_ADAPTERS_VERSION_PIN(poolId, replicaId, problem)
  }

  const place = async (poolId: string, replicaId: string, adapter: WorkerAdapter, action: 'bind' | 'rebind'): Promise<Binding | undefined> => {
    const b = await describe(adapter, poolId)
    checkPin(poolId, replicaId, b)
    const replicas = pools.get(poolId) ?? new Map<string, Binding>()
    const old = replicas.get(replicaId)
    replicas.set(replicaId, b)
    pools.set(poolId, replicas)
    say({ action, target: adapter.engine, pool_id: poolId, replica_id: replicaId, engine_version: b.engineVersion, slots_total: b.slotsTotal },
      `${action}s ${adapter.engine} ${b.engineVersion ?? '(version unknown)'} to ${poolId}/${replicaId}`)
    return old
  }

  /** A replica to stream on, or the error that says why there is none. */
  const choose = async (poolId: string, req: TaskRequest, replicaId?: string): Promise<[string, Binding] | WorkerErrorData> => {
    const replicas = pools.get(poolId)
    const none = (why: string, retryAfter = 1000): WorkerErrorData =>
      workerError('no_replica', req.engine, `pool ${poolId}: ${why}`, { retry_after_ms: retryAfter })
    if (!replicas || replicas.size === 0) return none('no engine replica is bound')
    const now = clock.nowMs()
    const all = replicaId !== undefined ? [...replicas.entries()].filter(([r]) => r === replicaId) : [...replicas.entries()]
    if (all.length === 0) return none(`replica ${replicaId} is not bound`)
    // a half-open replica is usable through its probe, which re-reads readiness
    const usable = all.filter(([, b]) => b.breaker.state(now) === 'half-open' || (b.ready !== false && b.breaker.state(now) === 'closed'))
    if (usable.length === 0) {
      const open = all.filter(([, b]) => b.breaker.state(now) === 'open')
      if (open.length === 0) return none('no replica is ready')
      const wait = Math.min(...open.map(([, b]) => b.breaker.remaining(now)))
      return workerError(
        'breaker_open',
        open[0]![1].adapter.engine,
        `pool ${poolId}: the circuit breaker is open after repeated engine failures`,
        { retry_after_ms: wait }
      )
    }
    // most free slots first, then replica id: deterministic (ORCH-3012)
    usable.sort(([ia, a], [ib, b]) => (b.slotsTotal - b.inFlight) - (a.slotsTotal - a.inFlight) || ia.localeCompare(ib))
    const [id, b] = usable[0]!
    if (b.breaker.state(now) === 'half-open') {
      if (b.breaker.probing) {
        return workerError('breaker_open', b.adapter.engine, `pool ${poolId}: a health probe of ${id} is in progress`, { retry_after_ms: 250 })
      }
      if (!(await probe(poolId, id, b))) {
        return workerError(
          'breaker_open',
          b.adapter.engine,
          `pool ${poolId}: replica ${id} failed its health probe`,
          { retry_after_ms: b.breaker.remaining(clock.nowMs()) }
        )
      }
    }
    return [id, b]
  }

  /** The one health probe a half-open breaker lets through. */
  const probe = async (poolId: string, replicaId: string, b: Binding): Promise<boolean> => {
    b.breaker.probing = true
    const h = await b.adapter.health().catch((): WorkerHealth => ({ live: false, ready: false }))
    b.ready = h.ready
    const fields = { target: b.adapter.engine, pool_id: poolId, replica_id: replicaId }
    if (h.ready) {
      b.breaker.close()
      say({ action: 'breaker-close', ...fields }, `closes the breaker of ${poolId}/${replicaId}: health probe passed`)
      return true
    }
    b.breaker.reopen(clock.nowMs())
    say({ action: 'breaker-open', ...fields, retry_after_ms: b.breaker.remaining(clock.nowMs()) },
      `keeps the breaker of ${poolId}/${replicaId} open: health probe failed`, 'warn')
    return false
  }

  const outcome = (poolId: string, replicaId: string, b: Binding, event: TokenEvent | undefined): void => {
    if (event?.kind === 'error' && COUNTED.has(event.data.kind)) {
      if (b.breaker.failure(clock.nowMs())) {
        say({
          action: 'breaker-open',
          target: b.adapter.engine,
          pool_id: poolId,
          replica_id: replicaId,
          failures: b.breaker.failures,
          retry_after_ms: b.breaker.remaining(clock.nowMs()),
        }, `opens the breaker of ${poolId}/${replicaId} after ${b.breaker.failures} engine failures in a row`, 'warn')
      }
    } else if (event !== undefined) b.breaker.success()
  }

  const hooks = (poolId: string, req: TaskRequest, o: { signal: AbortSignal, replicaId?: string | undefined }): HostRunHooks => ({
    choose: () => choose(poolId, req, o.replicaId),
    refuse (e) {
      say({ action: 'error', target: e.engine, task_id: req.task_id, pool_id: poolId, error_kind: e.kind, retry_after_ms: e.retry_after_ms },
        `cannot submit task ${req.task_id}: ${e.message}`, 'warn')
    },
    begin (replicaId, binding) {
      const d = determinismOf(req, poolConfig(poolId))
      say({
        action: 'submit',
        target: binding.adapter.engine,
        task_id: req.task_id,
        pool_id: poolId,
        replica_id: replicaId,
        engine_version: binding.engineVersion,
        seed: d.seed,
        sampler_profile_version: d.sampler_profile_version,
        model_digest: d.model_digest,
      }, `submits task ${req.task_id} to ${binding.adapter.engine} on ${poolId}/${replicaId}`)
      const controller = new AbortController()
      const entry: InFlight = { poolId, binding, controller, canceled: false }
      const onAbort = (): void => { entry.canceled = true; controller.abort() }
      if (o.signal.aborted) onAbort()
      else o.signal.addEventListener('abort', onAbort, { once: true })
      ends.set(entry, () => o.signal.removeEventListener('abort', onAbort))
      inFlight.set(req.task_id, entry)
      binding.inFlight++
      return entry
    },
    end (entry, replicaId, last) {
      ends.get(entry)?.()
      ends.delete(entry)
      if (inFlight.get(req.task_id) === entry) inFlight.delete(req.task_id)
      entry.binding.inFlight--
      closeWhenIdle(entry.binding)
      if (last === undefined) return
      const engine = entry.binding.adapter.engine
      outcome(poolId, replicaId, entry.binding, entry.canceled ? undefined : last)
      const ids = { target: engine, task_id: req.task_id, pool_id: poolId, replica_id: replicaId }
      if (last.kind === 'end') {
        say({ action: 'end', ...ids, tokens_out: last.data.tokens_out, decode_time_ms: last.data.decode_time_ms, stop_reason: last.data.stop_reason },
          `ends task ${req.task_id} on ${engine} after ${last.data.tokens_out} tokens (${last.data.stop_reason})`)
      } else if (last.kind === 'error') {
        say({ action: 'error', ...ids, error_kind: last.data.kind, retriable: last.data.retriable, upstream_status: last.data.upstream_status },
          `task ${req.task_id} on ${engine} fails: ${last.data.kind}`, 'warn')
      }
    },
  })
  const ends = new WeakMap<InFlight, () => void>()

  const timers: NodeJS.Timeout[] = []
  const host: AdapterHostInternal = {
    async bind (poolId, replicaId, adapter) {
      if (pools.get(poolId)?.has(replicaId)) throw new ORC_ERR_ADAPTERS_ALREADY_BOUND(poolId, replicaId)
      await place(poolId, replicaId, adapter, 'bind')
    },
    async rebind (poolId, replicaId, adapter) {
      const old = await place(poolId, replicaId, adapter, 'rebind')
      if (old) { scraper.forget(poolId, replicaId); old.retired = true; closeWhenIdle(old) }
    },
    async unbind (poolId, replicaId) {
      const b = pools.get(poolId)?.get(replicaId)
      if (!b) return
      pools.get(poolId)!.delete(replicaId)
      if (pools.get(poolId)!.size === 0) pools.delete(poolId)
      scraper.forget(poolId, replicaId)
      b.retired = true
      closeWhenIdle(b)
    },
    replicas (poolId) {
      const out: ReplicaStatus[] = []
      for (const [p, replicas] of pools) {
        if (poolId !== undefined && p !== poolId) continue
        for (const [r, b] of replicas) {
          out.push({
            poolId: p,
            replicaId: r,
            engine: b.adapter.engine,
            engineVersion: b.engineVersion,
            breaker: b.breaker.state(clock.nowMs()),
            inFlight: b.inFlight,
            ctxMax: b.ctxMax,
          })
        }
      }
      return out
    },
    submit: (poolId, req, o) => new HostRun(hooks(poolId, req, o), poolId, req, o.deadlineAt),
    async cancel (poolId, taskId) {
      const entry = inFlight.get(taskId)
      if (!entry) return
      entry.canceled = true
      entry.controller.abort()
      say({ action: 'cancel', target: entry.binding.adapter.engine, task_id: taskId, pool_id: poolId }, `cancels task ${taskId}`)
      await entry.binding.adapter.cancel(taskId).catch(() => {})
    },
    async health (poolId): Promise<WorkerHealth> {
      const replicas = [...(pools.get(poolId)?.entries() ?? [])]
      const all = await Promise.all(replicas.map(async ([r, b]) => {
        const h = await b.adapter.health().catch((): WorkerHealth => ({ live: false, ready: false }))
        // a health transition refreshes the capability cache (ORCH-3603)
        if (b.ready !== h.ready) { b.ready = h.ready; void refreshBinding(b, poolId).catch(() => {}) }
        return { h, open: b.breaker.state(clock.nowMs()) === 'open', r }
      }))
      return { live: all.some((x) => x.h.live), ready: all.some((x) => x.h.ready && !x.open) }
    },
    async props (poolId): Promise<WorkerProps> {
      const replicas = [...(pools.get(poolId)?.values() ?? [])]
      const total = replicas.reduce((n, b) => n + b.slotsTotal, 0)
      return { slots_total: total, slots_free: replicas.reduce((n, b) => n + Math.max(0, b.slotsTotal - b.inFlight), 0) }
    },
    capabilities: () => aggregateCapabilities(pools, deps.pools ?? [], clock.nowMs()),
    async freeSession (poolId, sessionId, replicaId) {
      const replicas = [...(pools.get(poolId)?.entries() ?? [])].filter(([r]) => replicaId === undefined || replicaId === '' || r === replicaId)
      await Promise.all(replicas.map(async ([r, b]) => {
        if (!b.adapter.freeSession) return
        try {
          await b.adapter.freeSession(sessionId)
          say({ action: 'free-session', target: b.adapter.engine, session_id: sessionId, pool_id: poolId, replica_id: r },
            `frees the KV of session ${sessionId} on ${poolId}/${r}`)
        } catch (err) {
          say({ action: 'free-session', target: b.adapter.engine, session_id: sessionId, pool_id: poolId, replica_id: r, error: (err as Error).message },
            `cannot free the KV of session ${sessionId} on ${poolId}/${r}`, 'warn')
        }
      }))
    },
    async refresh () {
      const now = clock.nowMs()
      await Promise.all([...pools.entries()].flatMap(([p, replicas]) => [...replicas.entries()].map(async ([r, b]) => {
        if (b.breaker.state(now) === 'half-open' && !b.breaker.probing) await probe(p, r, b)
        else await host.health(p).catch(() => {})
        await refreshBinding(b, p).catch(() => {})
      })))
    },
    async scrape () {
      await scraper.scrape(pools)
    },
    close () {
      for (const t of timers.splice(0)) clearInterval(t)
    },
  }
  for (const [ms, fn] of [[deps.refreshMs ?? 0, host.refresh], [deps.scrapeMs ?? 0, host.scrape]] as const) {
    if (ms > 0) timers.push(setInterval(() => { void fn().catch(() => {}) }, ms).unref())
  }
  return host
}

/** What an adapter says about itself: `capabilities()` when it has one, else `props()`. */
async function snapshot (adapter: WorkerAdapter): Promise<CapabilitySnapshot> {
  if (adapter.capabilities) return adapter.capabilities().catch(() => ({}))
  const p = await adapter.props().catch((): WorkerProps => ({ slots_total: null, slots_free: null }))
  return { slots_total: p.slots_total, ctx_max: p.ctx_max ?? null, engine_version: p.engine_version ?? null }
}
