import { admit, type Admitted } from './admission.js'
import { cancelTask, sweep } from './cancel.js'
import { createCore, type Core, type CoreDeps } from './core.js'
import { pump } from './dispatch.js'
import type { AdmissionQueue } from './queue.js'
import type { SessionInfo } from './sessions.js'
import { KeepAlive, SseWriter, type Sink } from './sse.js'
import type { Task } from './tasks.js'

/** What a stream route hands over: the response, plus its 'close' event. */
export interface StreamSink extends Sink { on (event: 'close', cb: () => void): unknown }

export interface SubscribeOptions {
  /** Replay from this frame index (Last-Event-ID + 1); 0 = the whole log. */
  from?: number
  /** A disconnect cancels the task (off by default, §2.3). */
  cancelOnDisconnect?: boolean
}

/**
 * The data plane as `app.queue` (spec api-and-core.md §2, §4): one admission queue per pool,
 * the task registry with its event logs and SSE fan-out, sessions, dispatch and the sweep.
 * Fastify-free: routes call it, tests may too.
 */
export interface DataPlane {
  readonly poolIds: readonly string[]
  queue (poolId: string): AdmissionQueue<string> | undefined
  /** `client`: the caller's API key or address, for `queue.throttle`. */
  admit (body: Record<string, unknown>, correlationId: string, client?: string): Admitted
  /** ORCH-3026: the flag is set and the terminal frame appended before this returns. */
  cancel (taskId: string): boolean
  task (taskId: string): Readonly<Task> | undefined
  subscribe (task: Task, sink: StreamSink, o?: SubscribeOptions): SseWriter
  session (sessionId: string): SessionInfo | undefined
  sessionHeaders (sessionId: string): Record<string, string>
  /** Evicts the session and asks its replica to free the session's KV (best-effort, not awaited). */
  deleteSession (sessionId: string): boolean
  /** Runs the periodic sweep now (tests drive it with a fake clock). */
  sweep (): void
  /** Dispatches whatever fits now (e.g. after a pool became Ready). */
  kick (poolId?: string): void
  /** Open SSE subscribers (for tests and shutdown). */
  readonly subscribers: number
  /** Ends every open stream and stops the timers. */
  close (): void
  readonly core: Core
}

export function createDataPlane (deps: CoreDeps): DataPlane {
  const core = createCore(deps)
  const { sse, tasks } = deps.config
  const keepAlive = new KeepAlive(sse.keepalive_ms)
  const timer = setInterval(() => sweep(core), tasks.sweep_interval_ms).unref()

  return {
    poolIds: [...core.queues.keys()],
    core,
    queue: (id) => core.queues.get(id),
    admit: (body, correlationId, client) => admit(core, body, correlationId, client),
    cancel: (id) => cancelTask(core, id, 'client'),
    task: (id) => core.tasks.get(id),
    subscribe (task, sink, o = {}) {
      const w: SseWriter = new SseWriter(task.log, sink, o.from ?? 0, {
        mode: sse.micro_batch_ms > 0 ? 'micro-batch' : 'buffered',
        microBatchMs: sse.micro_batch_ms,
        onFinish: () => { task.listeners.delete(w); keepAlive.delete(w) },
      })
      task.listeners.add(w)
      keepAlive.add(w)
      core.sessions.touch(task.req.session_id)
      sink.on('close', () => {
        if (w.closed) return
        w.close()
        if (o.cancelOnDisconnect && !task.log.ended) cancelTask(core, task.id, 'client')
      })
      w.flush()
      return w
    },
    session (id) {
      const s = core.sessions.get(id)
      return s ? core.sessions.info(s) : undefined
    },
    sessionHeaders (id) {
      const s = core.sessions.get(id)
      return s ? core.sessions.headers(s) : {}
    },
    // running tasks of the session go on; the store's eviction hook frees its KV
    deleteSession: (id) => core.sessions.delete(id),
    sweep: () => sweep(core),
    kick (poolId) {
      for (const id of poolId === undefined ? core.queues.keys() : [poolId]) pump(core, id)
    },
    get subscribers () { return keepAlive.size },
    close () {
      clearInterval(timer)
      for (const task of core.tasks.values()) for (const l of [...task.listeners]) (l as SseWriter).end()
      keepAlive.stop()
    },
  }
}
