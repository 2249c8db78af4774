import type { AdapterHost } from '../../sdk/adapter.js'
import type { Narrator } from '../../sdk/narration.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import type { Clock } from '../../lib/clock.js'
import type { ContractMetrics } from '../metrics/index.js'
import type { Placement } from '../placement/index.js'
import type { PoolRegistry } from '../pool/index.js'
import type { SessionStore } from '../sessions/index.js'
import { createAdmission, type Admitted, type ModelLifecycle } from './admission.js'
import { createLifecycle } from './lifecycle.js'
import { createPoolView } from './pools.js'
import { newPoolStats, type PoolStats } from './predict.js'
import type { AdmissionQueue } from './queue.js'
import { createRunner } from './runner.js'
import { createScheduler } from './scheduler.js'
import type { QueueDefaults, SseConfig, TasksConfig } from './schema.js'
import { KeepAlive, SseWriter, type Sink } from './sse.js'
import { createSweep } from './sweep.js'
import { createTaskStore, type Task } from './tasks.js'
import { createTelemetry } from './telemetry.js'
import { Throttle } from './throttle.js'

/** What a stream route hands over: the response, plus its 'close' event. */
export interface StreamSink extends Sink { on (event: 'close', cb: () => void): unknown }

export interface SubscribeOptions {
  /** Replay from this frame index (Last-Event-ID + 1); 0 = the whole log. */
  from?: number
  /** A disconnect cancels the task (off by default, §2.3). */
  cancelOnDisconnect?: boolean
}

/** What tests may look at beyond the public surface: a task's live record and a pool's queue. */
export interface DataPlaneInspection {
  task (taskId: string): Task | undefined
  queue (poolId: string): AdmissionQueue<string> | undefined
}

/**
 * The data plane as `app.dataplane` (spec api-and-core.md §2, §4; architecture.md §3):
 * admission onto one queue per pool, tasks with their event logs and SSE fan-out, dispatch
 * through the adapter host, cancel and the sweep. Fastify-free: routes call it.
 */
export interface DataPlane {
  readonly poolIds: readonly string[]
  /** `client`: who asks (`req.apiClient`: the authenticated key's index, else the address), for `queue.throttle`. */
  admit (body: Record<string, unknown>, correlationId: string, client?: string): Admitted
  /** ORCH-3026: the flag is set and the terminal frame appended before this returns. */
  cancel (taskId: string): boolean
  task (taskId: string): Readonly<Task> | undefined
  subscribe (task: Readonly<Task>, sink: StreamSink, o?: SubscribeOptions): SseWriter
  /**
   * Hands every frame of the task's log (`id: …\nevent: …\ndata: …\n\n`), from the first, to
   * `onFrame` now and as they are appended, up to the terminal one: for routes that answer in
   * another wire format (the OpenAI API). Returns a function that stops it.
   */
  follow (task: Readonly<Task>, onFrame: (frame: string) => void): () => void
  /** Tasks waiting in the pool's queue (0 for an unknown pool). */
  queueDepth (poolId: string): number
  /** Runs the periodic sweep now (tests drive it with a fake clock). */
  sweep (): void
  /** Dispatches whatever fits now (e.g. after a pool became Ready). */
  kick (poolId?: string): void
  /** Open SSE subscribers (for tests and shutdown). */
  readonly subscribers: number
  /** Ends every open stream and stops the timers. */
  close (): void
  inspect (): DataPlaneInspection
}

export interface DataPlaneDeps {
  configs: readonly PoolConfig[]
  registry: PoolRegistry
  placement: Placement
  host: AdapterHost
  sessions: SessionStore
  metrics: ContractMetrics
  narrator: Narrator
  clock: Clock
  /** The engines adapters have registered (decision 7). */
  engines: () => string[]
  modelLifecycle: ModelLifecycle
  config: { queue: QueueDefaults, sse: SseConfig, tasks: TasksConfig }
  /** Called once per task at its terminal frame (the transcript artifact). */
  onRetire?: (task: Task) => void
}

/** Wires the parts of the data plane; each gets only what it uses. */
export function createDataPlane (deps: DataPlaneDeps): DataPlane {
  const { clock, sessions, host, config } = deps
  const pools = createPoolView(deps.configs, deps.registry, host)
  const stats = new Map<string, PoolStats>(pools.ids.map((id) => [id, newPoolStats()]))
  const telemetry = createTelemetry(deps.metrics, deps.narrator, pools)
  const tasks = createTaskStore(deps.onRetire)
  const throttle = config.queue.throttle ? new Throttle(config.queue.throttle.tasks_per_s, config.queue.throttle.burst) : undefined
  // the scheduler starts tasks through the runner, which ends them through the lifecycle, which
  // gives their slots back to the scheduler: the runner is looked up when a task starts
  const scheduler = createScheduler({
    pools, registry: deps.registry, tasks, depth: telemetry.depth, start: (task) => runner.run(task), now: () => clock.nowMs(),
  })
  const lifecycle = createLifecycle({ clock, scheduler, tasks, sessions, host, stats, telemetry, costPerToken: config.tasks.cost_per_token })
  const runner = createRunner({ clock, host, sessions, scheduler, stats, telemetry, lifecycle, sse: config.sse })
  const admission = createAdmission({
    clock,
    taskDefaults: { max_tokens: config.tasks.default_max_tokens, deadline_ms: config.tasks.default_deadline_ms },
    engines: deps.engines,
    capabilities: () => host.capabilities(),
    modelLifecycle: deps.modelLifecycle,
    pools,
    registry: deps.registry,
    placement: deps.placement,
    sessions,
    tasks,
    scheduler,
    lifecycle,
    stats,
    telemetry,
    throttle,
    queue: config.queue,
    costPerToken: config.tasks.cost_per_token,
    eventLogMaxFrames: config.tasks.event_log_max_frames,
  })
  const sweep = createSweep({
    clock,
    tasks,
    pools,
    registry: deps.registry,
    placement: deps.placement,
    scheduler,
    lifecycle,
    sessions,
    telemetry,
    throttle,
    retentionMs: config.tasks.retention_ms,
  })
  const keepAlive = new KeepAlive(config.sse.keepalive_ms)
  const timer = setInterval(sweep, config.tasks.sweep_interval_ms).unref()
  // a client that drops a stream opened with cancel_on_disconnect cancels it too: reason `client`
  const cancel = (id: string): boolean => {
    const task = tasks.get(id)
    return task !== undefined && !task.canceled && lifecycle.conclude(task, { kind: 'canceled', reason: 'client' })
  }

  return {
    poolIds: pools.ids,
    admit: (body, correlationId, client) => admission.admit(body, correlationId, client),
    cancel,
    task: (id) => tasks.get(id),
    subscribe (task, sink, o = {}) {
      const w: SseWriter = new SseWriter(task.log, sink, o.from ?? 0, {
        mode: config.sse.micro_batch_ms > 0 ? 'micro-batch' : 'buffered',
        microBatchMs: config.sse.micro_batch_ms,
        onFinish: () => { task.listeners.delete(w); keepAlive.delete(w) },
      })
      task.listeners.add(w)
      keepAlive.add(w)
      sessions.touch(task.req.session_id)
      sink.on('close', () => {
        if (w.closed) return
        w.close()
        if (o.cancelOnDisconnect && !task.log.ended) cancel(task.id)
      })
      w.flush()
      return w
    },
    follow (task, onFrame) {
      let next = 0
      const follower = {
        notify () {
          const frames = task.log.from(next)
          next = task.log.next
          if (task.log.ended) task.listeners.delete(follower)
          for (const f of frames) onFrame(f)
        },
        finish () { task.listeners.delete(follower) },
      }
      task.listeners.add(follower)
      follower.notify()
      return () => { task.listeners.delete(follower) }
    },
    queueDepth: (poolId) => scheduler.queue(poolId)?.len() ?? 0,
    sweep,
    kick (poolId) {
      if (poolId === undefined) scheduler.pumpAll()
      else scheduler.pump(poolId)
    },
    get subscribers () { return keepAlive.size },
    close () {
      clearInterval(timer)
      for (const task of tasks.all()) for (const l of [...task.listeners]) l instanceof SseWriter ? l.end() : l.finish()
      keepAlive.stop()
    },
    inspect: () => ({ task: (id) => tasks.get(id), queue: (poolId) => scheduler.queue(poolId) }),
  }
}
