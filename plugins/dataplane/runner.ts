import type { AdapterHost, TokenEvent } from '../../sdk/adapter.js'
import { endedWithoutTerminal, PUBLIC_ERROR_KIND } from '../../sdk/worker-errors.js'
import type { Clock } from '../../lib/clock.js'
import type { SessionStore } from '../sessions/index.js'
import { frame, tokenFrame } from './event-log.js'
import type { TaskLifecycle } from './lifecycle.js'
import { onTimeProbability, type PoolStats } from './predict.js'
import type { SseConfig } from './schema.js'
import type { Scheduler } from './scheduler.js'
import { emit, type Task } from './tasks.js'
import type { Telemetry } from './telemetry.js'

/**
 * The runner (spec api-and-core.md §4.5, §2.2): streams a dispatched task through
 * `app.adapterHost.submit` and turns the adapter's events into the task's frames. The
 * orchestrator owns `started`; token indices are renumbered to stay contiguous; adapter
 * metrics are merged into our `metrics` frames; the stream's end or error goes to
 * `lifecycle.conclude`, with worker error kinds mapped by the SDK's one table (§1.5).
 */
export interface Runner {
  /** Starts the task's stream (the scheduler has taken its slot lease). */
  run (task: Task): void
}

export interface RunnerDeps {
  clock: Clock
  host: Pick<AdapterHost, 'submit' | 'replicas'>
  sessions: Pick<SessionStore, 'get' | 'info'>
  scheduler: Pick<Scheduler, 'queue'>
  stats: ReadonlyMap<string, PoolStats>
  telemetry: Pick<Telemetry, 'started' | 'runFailed' | 'engineFailed'>
  lifecycle: TaskLifecycle
  sse: SseConfig
}

/** Per-stream state the frames are built from. */
interface Run {
  task: Task
  adapterMetrics: Record<string, number | boolean | string>
  sinceMetrics: number
  lastMetricsAt: number
}

const internalMessage = (task: Task): string =>
  `the engine failed this task; the cause is in the server log under correlation id ${task.correlationId}`

/** How long a pool whose engine could not be reached gets before the next dispatch: time for its supervisor to see the exit. */
export const UNREACHABLE_HOLD_MS = 500

/**
 * What a client reads when an engine fails its task: the engine's own text can name internal
 * addresses and ports (`POST http://127.0.0.1:8081/completion failed…`), so transport failures
 * get a sentence of ours and any URL or address left in the rest is replaced (issue 10 #2).
 * The engine's text is always in the log, under the task's correlation id.
 */
function publicMessage (task: Task, code: string, engineText: string): string {
  const where = `the cause is in the server log under correlation id ${task.correlationId}`
  if (code === 'INTERNAL') return internalMessage(task)
  if (code === 'POOL_UNAVAILABLE') return `the engine of pool ${task.poolId} could not be reached; retry later (${where})`
  if (code === 'WORKER_RESET') return `the engine of pool ${task.poolId} stopped during this task; resubmit it (${where})`
  return engineText.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi, 'the engine').replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, 'the engine')
}

export function createRunner (deps: RunnerDeps): Runner {
  const { clock, sessions, lifecycle } = deps

  const metricsFrame = (run: Run, now: number): void => {
    const { task } = run
    run.sinceMetrics = 0
    run.lastMetricsAt = now
    const session = sessions.get(task.req.session_id)
    const perToken = deps.stats.get(task.poolId)!.msPerToken.value ??
      (task.firstTokenAt !== undefined && task.tokensOut > 1 ? (now - task.firstTokenAt) / (task.tokensOut - 1) : 0)
    const data: Record<string, unknown> = {
      ...run.adapterMetrics,
      queue_depth: deps.scheduler.queue(task.poolId)!.len(),
      on_time_probability: onTimeProbability(task.deadlineAt - now, (task.req.max_tokens - task.tokensOut) * perToken),
      kv_warmth: session?.kvWarmth ?? false,
      ...(task.kvMigrated ? { kv_warmth: false, kv_migrated: false } : {}),
    }
    if (session) {
      const info = sessions.info(session)
      for (const k of ['tokens_budget_remaining', 'time_budget_remaining_ms', 'cost_budget_remaining'] as const) if (info[k] !== undefined) data[k] = info[k]
    }
    task.kvMigrated = false
    emit(task, (seq) => frame(seq, 'metrics', data))
  }

  const started = (run: Run): void => {
    const { task } = run
    const now = clock.nowMs()
    task.stream = deps.telemetry.started(task, now)
    const session = sessions.get(task.req.session_id)
    if (!session) return
    const aff = session.affinity
    if (aff && (aff.poolId !== task.poolId || aff.replicaId !== task.replicaId)) { session.kvWarmth = false; task.kvMigrated = true }
    session.affinity = { poolId: task.poolId, replicaId: task.replicaId, lastUsedMs: now }
  }

  const token = (run: Run, t: string): void => {
    const { task } = run
    const i = task.tokensOut++
    emit(task, (seq) => tokenFrame(seq, t, i))
    const now = clock.nowMs()
    task.lastTokenAt = now
    task.stream?.token(now)
    run.sinceMetrics++
    if (i === 0) {
      // the first metrics frame waits for the interval or the end: a cancel right after the
      // first tokens leaves a transcript with tokens and no metrics (§5 E27, E28)
      task.firstTokenAt = now
      run.lastMetricsAt = now
      task.stream?.firstToken(now - task.admittedAt)
      const session = sessions.get(task.req.session_id)
      if (session) session.kvWarmth = true
    } else if (run.sinceMetrics >= deps.sse.metrics_interval_tokens || now - run.lastMetricsAt >= deps.sse.metrics_interval_ms) {
      metricsFrame(run, now)
    }
  }

  /** True once the stream is over for us. */
  const handle = (run: Run, ev: TokenEvent): boolean => {
    const { task } = run
    if (task.log.ended) return true // canceled or aborted by the sweep: drop whatever still comes
    switch (ev.kind) {
      case 'started':
        task.replicaId = ev.data.replica_id
        task.engineVersion = ev.data.engine_version
        if (ev.data.tokens_in !== undefined) task.tokensIn = ev.data.tokens_in
        started(run)
        return false
      case 'token': token(run, ev.data.t); return false
      case 'metrics': Object.assign(run.adapterMetrics, ev.data); return false
      case 'end':
        task.stopReason = ev.data.stop_reason
        if (task.tokensOut > 0) metricsFrame(run, clock.nowMs())
        lifecycle.conclude(task, { kind: 'completed', decodeMs: ev.data.decode_time_ms, tokensIn: ev.data.tokens_in, embeddings: ev.data.embeddings })
        return true
      case 'error': {
        const code = PUBLIC_ERROR_KIND[ev.data.kind] ?? 'INTERNAL'
        const hold = Math.max(UNREACHABLE_HOLD_MS, ev.data.retry_after_ms ?? 0)
        // never reached an engine that could start it: wait for the restart rather than fail (issue 10 #2)
        if (code === 'POOL_UNAVAILABLE' && task.stream === undefined && task.tokensOut === 0 && clock.nowMs() + hold < task.deadlineAt) {
          lifecycle.requeue(task, hold, ev.data.message)
          return true
        }
        deps.telemetry.engineFailed(task, ev.data.kind, ev.data.message)
        lifecycle.conclude(task, { kind: 'failed', code, message: publicMessage(task, code, ev.data.message) })
        return true
      }
    }
  }

  const stream = async (run: Run, replicaId: string | undefined): Promise<void> => {
    const { task } = run
    try {
      const events = deps.host.submit(task.poolId, task.req, {
        signal: task.controller!.signal,
        deadlineAt: task.deadlineAt,
        ...(replicaId !== undefined ? { replicaId } : {}),
      })
      let over = false
      for await (const ev of events) if ((over = handle(run, ev))) break
      // the adapter host guarantees a terminal event; a stream that still lacks one is told apart the same way
      if (!over && !task.log.ended) handle(run, { kind: 'error', data: endedWithoutTerminal(task.req.engine) })
    } catch (err) {
      deps.telemetry.runFailed(task, (err as Error).message, `dispatch of task ${task.id} failed unexpectedly`)
      lifecycle.conclude(task, { kind: 'failed', code: 'INTERNAL', message: internalMessage(task) })
    }
  }

  return {
    run (task) {
      const now = clock.nowMs()
      task.state = 'running'
      task.startedAt = now
      task.controller = new AbortController()
      // the session's replica keeps its KV warm, unless the task asks for a cold start
      // a pinned replica is the task's own choice: down, the task fails rather than running elsewhere
      const aff = sessions.get(task.req.session_id)?.affinity
      const replicaId = task.req.placement?.pin_replica_id ?? (aff && aff.poolId === task.poolId && task.req.kv_hint !== 'cold' &&
        deps.host.replicas(task.poolId).some((r) => r.replicaId === aff.replicaId)
        ? aff.replicaId
        : undefined)
      void stream({ task, adapterMetrics: {}, sinceMetrics: 0, lastMetricsAt: now }, replicaId)
    },
  }
}
