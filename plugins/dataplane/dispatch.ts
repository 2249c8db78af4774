import type { EndData, TokenEvent, WorkerErrorData } from '../../sdk/index.js'
import type { ErrorKind } from '../../sdk/api.js'
import { poolConfig, retire, updateDepth, type Core } from './core.js'
import { onTimeProbability } from './predict.js'
import { StreamMetrics } from './telemetry.js'
import { emit, emitEnd, emitError, frame, tokenFrame, type Task } from './tasks.js'

/**
 * Dispatch (spec api-and-core.md §4.5): while the pool has a free slot and a queued task,
 * dequeue it, take a lease and stream it through `app.adapterHost.submit`, mapping the
 * adapter's events to §2.2 frames: the orchestrator owns `started`, token indices are
 * renumbered to stay contiguous, adapter metrics are merged into our `metrics` frames, and
 * worker errors are mapped per §1.5. Only Ready, non-draining pools have free slots.
 */
export function pump (core: Core, poolId: string): void {
  const q = core.queues.get(poolId)
  if (!q) return
  let changed = false
  while (!q.isEmpty() && core.registry.slotsFree(poolId) > 0) {
    const next = q.dequeue()!
    changed = true
    const task = core.tasks.get(next.id)
    if (task?.state === 'queued') start(core, task)
  }
  if (changed) updateDepth(core, poolId)
}

/** Worker kinds → public codes (§1.5): Adapter(msg) and Internal(msg) become INTERNAL. */
const CODE: Record<WorkerErrorData['kind'], ErrorKind> = {
  DEADLINE_UNMET: 'DEADLINE_UNMET',
  POOL_UNAVAILABLE: 'POOL_UNAVAILABLE',
  DECODE_TIMEOUT: 'DECODE_TIMEOUT',
  WORKER_RESET: 'WORKER_RESET',
  INTERNAL: 'INTERNAL',
  ADAPTER: 'INTERNAL',
}

interface Run {
  task: Task
  sm?: StreamMetrics
  adapterMetrics: Record<string, number | boolean | string>
  sinceMetrics: number
  lastMetricsAt: number
}

function start (core: Core, task: Task): void {
  const now = core.clock.nowMs()
  task.state = 'running'
  task.startedAt = now
  core.registry.allocateLease(task.poolId)
  task.leaseHeld = true
  task.controller = new AbortController()
  const session = core.sessions.get(task.req.session_id)
  const aff = session?.affinity
  const replicaId = aff && aff.poolId === task.poolId && task.req.kv_hint !== 'cold' && core.host.replicas(task.poolId).some((r) => r.replicaId === aff.replicaId)
    ? aff.replicaId
    : undefined
  void stream(core, { task, adapterMetrics: {}, sinceMetrics: 0, lastMetricsAt: now }, replicaId)
}

async function stream (core: Core, run: Run, replicaId: string | undefined): Promise<void> {
  const { task } = run
  const signal = task.controller!.signal
  try {
    const events = core.host.submit(task.poolId, task.req, { signal, deadlineAt: task.deadlineAt, ...(replicaId !== undefined ? { replicaId } : {}) })
    for await (const ev of events) {
      if (handle(core, run, ev)) break
    }
    if (!task.log.ended) fail(core, run, 'WORKER_RESET', 'the engine stream ended without a terminal event')
  } catch (err) {
    core.narrator.narrate({ actor: 'orchestratord', action: 'error', target: task.id, task_id: task.id, pool_id: task.poolId, error: (err as Error).message }, `dispatch of task ${task.id} failed unexpectedly`, 'error')
    if (!task.log.ended) fail(core, run, 'INTERNAL', internalMessage(task))
  } finally {
    core.streams.delete(task.id)
    releaseLease(core, task)
  }
}

/** Gives the task's slot back exactly once (terminal frame, cancel or unwind) and refills it. */
export function releaseLease (core: Core, task: Task): void {
  if (!task.leaseHeld) return
  task.leaseHeld = false
  core.registry.releaseLease(task.poolId)
  pump(core, task.poolId)
}

/** Returns true once the stream is over for us. */
function handle (core: Core, run: Run, ev: TokenEvent): boolean {
  const { task } = run
  if (task.log.ended) return true // canceled or aborted by the watchdog: drop whatever still comes
  if (ev.kind === 'started') {
    task.replicaId = ev.data.replica_id
    task.engineVersion = ev.data.engine_version
    if (ev.data.tokens_in !== undefined) task.tokensIn = ev.data.tokens_in
    started(core, run)
    return false
  }
  switch (ev.kind) {
    case 'token': token(core, run, ev.data.t); return false
    case 'metrics': Object.assign(run.adapterMetrics, ev.data); return false
    case 'end': end(core, run, ev.data); return true
    case 'error': {
      const code = CODE[ev.data.kind] ?? 'INTERNAL'
      if (code === 'INTERNAL') {
        core.narrator.narrate({ actor: 'orchestratord', action: 'error', target: task.id, task_id: task.id, pool_id: task.poolId, error_kind: ev.data.kind, cause: ev.data.message }, `engine failed task ${task.id}`, 'error')
      }
      fail(core, run, code, code === 'INTERNAL' ? internalMessage(task) : ev.data.message)
      return true
    }
  }
}

function internalMessage (task: Task): string {
  return `the engine failed this task; the cause is in the server log under correlation id ${task.correlationId}`
}

function started (core: Core, run: Run): void {
  const { task } = run
  run.sm = new StreamMetrics(core.metrics, { engine: task.req.engine, engine_version: task.engineVersion, pool_id: task.poolId, replica_id: task.replicaId, priority: task.req.priority }, core.clock.nowMs())
  core.streams.set(task.id, run.sm)
  const session = core.sessions.get(task.req.session_id)
  if (session) {
    const aff = session.affinity
    if (aff && (aff.poolId !== task.poolId || aff.replicaId !== task.replicaId)) { session.kvWarmth = false; task.kvMigrated = true }
    session.affinity = { poolId: task.poolId, replicaId: task.replicaId, lastUsedMs: core.clock.nowMs() }
  }
  core.narrator.narrate({
    actor: 'orchestratord', action: 'started', target: task.id, ...logIds(core, task), queue_time_ms: task.startedAt! - task.admittedAt,
  }, `dispatches task ${task.id} to ${task.poolId}/${task.replicaId}`)
}

function token (core: Core, run: Run, t: string): void {
  const { task } = run
  const i = task.tokensOut++
  emit(task, (seq) => tokenFrame(seq, t, i))
  const now = core.clock.nowMs()
  task.lastTokenAt = now
  run.sm?.token(now)
  run.sinceMetrics++
  if (i === 0) {
    // the first metrics frame waits for the interval or the end: a cancel right after the
    // first tokens leaves a transcript with tokens and no metrics (§5 E27, E28)
    task.firstTokenAt = now
    run.lastMetricsAt = now
    run.sm?.firstToken(now - task.admittedAt)
    const session = core.sessions.get(task.req.session_id)
    if (session) session.kvWarmth = true
  } else if (run.sinceMetrics >= core.config.sse.metrics_interval_tokens || now - run.lastMetricsAt >= core.config.sse.metrics_interval_ms) {
    metrics(core, run, now)
  }
}

function metrics (core: Core, run: Run, now: number): void {
  const { task } = run
  run.sinceMetrics = 0
  run.lastMetricsAt = now
  const session = core.sessions.get(task.req.session_id)
  const perToken = core.stats.get(task.poolId)!.msPerToken.value ??
    (task.firstTokenAt !== undefined && task.tokensOut > 1 ? (now - task.firstTokenAt) / (task.tokensOut - 1) : 0)
  const data: Record<string, unknown> = {
    ...run.adapterMetrics,
    queue_depth: core.queues.get(task.poolId)!.len(),
    on_time_probability: onTimeProbability(task.deadlineAt - now, (task.req.max_tokens - task.tokensOut) * perToken),
    kv_warmth: session?.kvWarmth ?? false,
    ...(task.kvMigrated ? { kv_warmth: false, kv_migrated: false } : {}),
  }
  if (session) {
    const info = core.sessions.info(session)
    for (const k of ['tokens_budget_remaining', 'time_budget_remaining_ms', 'cost_budget_remaining'] as const) if (info[k] !== undefined) data[k] = info[k]
  }
  task.kvMigrated = false
  emit(task, (seq) => frame(seq, 'metrics', data))
}

function end (core: Core, run: Run, data: EndData): void {
  const { task } = run
  const now = core.clock.nowMs()
  if (task.tokensOut > 0) metrics(core, run, now)
  task.decodeMs = Math.max(0, Math.round(data.decode_time_ms))
  if (data.tokens_in !== undefined) task.tokensIn = data.tokens_in
  task.state = 'completed'
  emitEnd(task, { tokens_out: task.tokensOut, decode_time_ms: task.decodeMs, decode_ms: task.decodeMs })
  const stats = core.stats.get(task.poolId)!
  stats.jobMs.observe(now - task.startedAt!)
  if (task.tokensOut > 1 && task.firstTokenAt !== undefined) stats.msPerToken.observe((now - task.firstTokenAt) / (task.tokensOut - 1))
  finish(core, run, now, 'end', `task ${task.id} ends after ${task.tokensOut} tokens`)
}

function fail (core: Core, run: Run, code: ErrorKind, message: string): void {
  const { task } = run
  task.state = 'failed'
  emitError(task, code, message)
  finish(core, run, core.clock.nowMs(), 'error', `task ${task.id} fails with ${code}`, code)
}

function finish (core: Core, run: Run, now: number, action: 'end' | 'error', human: string, code?: ErrorKind): void {
  const { task } = run
  run.sm?.terminal(now, task.tokensIn, task.firstTokenAt !== undefined ? now - task.firstTokenAt : undefined)
  settle(core, task)
  retire(core, task)
  core.narrator.narrate({ actor: 'orchestratord', action, target: task.id, ...logIds(core, task), ...(code ? { code } : {}) }, human, code ? 'warn' : 'info')
}

/** Budgets are settled at the terminal frame: the reservation is replaced by what was used. */
export function settle (core: Core, task: Task): void {
  const cost = task.tokensOut * core.config.tasks.cost_per_token
  core.sessions.settle(task.req.session_id, task.reservation, { tokens: task.tokensOut, time_ms: task.decodeMs, cost })
}

/** The §4.7 fields every admission/start/end/error/cancel log line carries. */
export function logIds (core: Core, task: Task): Record<string, unknown> {
  const r = task.req
  return {
    correlation_id: task.correlationId,
    job_id: task.id,
    task_id: task.id,
    session_id: r.session_id,
    engine: r.engine,
    engine_version: task.engineVersion,
    pool_id: task.poolId,
    replica_id: task.replicaId,
    queue_position: task.admission.queue_position,
    predicted_start_ms: task.admission.predicted_start_ms,
    tokens_in: task.tokensIn ?? 0,
    tokens_out: task.tokensOut,
    decode_time_ms: task.decodeMs,
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    ...(r.sampler_profile_version !== undefined ? { sampler_profile_version: r.sampler_profile_version } : {}),
    ...(poolConfig(core, task.poolId).provisioning.model?.checksum ? { model_digest: poolConfig(core, task.poolId).provisioning.model!.checksum } : {}),
  }
}
