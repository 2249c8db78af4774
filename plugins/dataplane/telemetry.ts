import type { ApiError, ErrorKind } from '../../sdk/api.js'
import type { Narrator } from '../../sdk/narration.js'
import type { TaskRequest } from '../../sdk/task.js'
import type { ContractMetrics } from '../metrics/index.js'
import type { PlacementDecision, Refusal } from '../placement/index.js'
import type { PoolView } from './pools.js'
import type { AdmissionQueue } from './queue.js'
import { StreamMetrics } from './stream-metrics.js'
import type { Task } from './tasks.js'

/** How a task ended, as `lifecycle.conclude` is told (spec api-and-core.md §2.2, §4.1.4, §4.2). */
export type CancelReason = 'client' | 'watchdog' | 'deadline'
export type Outcome =
  /** The engine's `end`: `decodeMs` as it reported, `tokensIn` when it counted them. */
  | { kind: 'completed', decodeMs: number, tokensIn?: number | undefined, embeddings?: number[][] | undefined }
  /** The engine's or the adapter host's error, or a failure of the run itself. */
  | { kind: 'failed', code: ErrorKind, message: string }
  /** The sweep stopped it: a deadline or a watchdog (running), or a drained pool (queued). */
  | { kind: 'aborted', code: ErrorKind, message: string, reason: 'watchdog' | 'deadline' }
  | { kind: 'canceled', reason: CancelReason }
  /** A drop-lru victim (decision 5). */
  | { kind: 'dropped' }

/**
 * What the data plane says about tasks (spec §3.5, §4.6, §4.7, ORCH-3460): the contract
 * counters and queue_depth, per-stream metrics, and one narration record per admission,
 * refusal, dispatch, re-placement and end. Nothing here changes a task.
 */
export interface Telemetry {
  /** The §4.7 fields every admission/start/end/error/cancel log line carries. */
  logIds (task: Task): Record<string, unknown>
  depth (poolId: string, queue: AdmissionQueue<string>): void
  refused (req: TaskRequest, err: ApiError, correlationId: string): void
  backpressure (engine: string, policy: 'reject' | 'drop-lru' | 'rate-limit'): void
  /** Placement chose a pool (issue 10 #10: every decision is narrated). */
  placed (req: TaskRequest, decision: Extract<PlacementDecision, { kind: 'assigned' }>, correlationId: string): void
  /** No pool could take the task: each pool's reason, in words. */
  unplaced (req: TaskRequest, refusal: Refusal, correlationId: string): void
  admitted (task: Task, policy: string): void
  /** The engine started the task: its stream metrics begin, its dispatch is narrated. */
  started (task: Task, nowMs: number): StreamMetrics
  replaced (task: Task, fromPoolId: string): void
  /** A dispatched task went back to its queue: its engine could not be reached (`cause` stays in the log). */
  requeued (task: Task, holdMs: number, cause: string): void
  /** An unexpected failure of the run itself (its cause stays in the log). */
  runFailed (task: Task, error: string, human: string): void
  /** An engine error that becomes INTERNAL: the cause stays in the log, not in the stream. */
  engineFailed (task: Task, kind: string, cause: string): void
  concluded (task: Task, outcome: Outcome, wasQueued: boolean): void
}

export function createTelemetry (metrics: ContractMetrics, narrator: Narrator, pools: PoolView): Telemetry {
  const depth = new QueueDepth(metrics)
  const say = (task: Task, action: string, human: string, fields: Record<string, unknown> = {}, level: 'info' | 'warn' | 'error' = 'info'): void => {
    narrator.narrate({ actor: 'orchestratord', action, target: task.id, ...fields }, human, level)
  }
  const logIds = (task: Task): Record<string, unknown> => {
    const r = task.req
    const checksum = pools.config(task.poolId).provisioning.model?.checksum
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
      ...(checksum ? { model_digest: checksum } : {}),
    }
  }
  const canceledLabels = (task: Task, reason: CancelReason): Record<string, string> =>
    ({ engine: task.req.engine, engine_version: task.engineVersion, pool_id: task.poolId, replica_id: task.replicaId, reason })

  return {
    logIds,
    depth (poolId, queue) {
      const engine = pools.config(poolId).engine
      const version = pools.engineVersion(poolId)
      for (const p of ['interactive', 'batch'] as const) depth.set(poolId, engine, version, p, queue.lenOf(p))
    },
    refused (req, err, correlationId) {
      metrics.tasks_rejected_total.inc({ engine: req.engine, reason: err.code })
      narrator.narrate({
        actor: 'orchestratord',
        action: 'reject',
        target: req.task_id,
        correlation_id: correlationId,
        task_id: req.task_id,
        session_id: req.session_id,
        engine: req.engine,
        code: err.code,
        ...(err.options.pool_id ? { pool_id: err.options.pool_id } : {}),
      }, `rejects task ${req.task_id}: ${err.code}`, err.statusCode >= 500 ? 'warn' : 'info')
    },
    backpressure (engine, policy) {
      metrics.admission_backpressure_events_total.inc({ engine, policy })
    },
    placed (req, d, correlationId) {
      const where = d.replicaId === undefined ? d.poolId : `${d.poolId}/${d.replicaId}`
      narrator.narrate({
        ...placementFields(req, correlationId),
        pool_id: d.poolId,
        ...(d.replicaId !== undefined ? { replica_id: d.replicaId } : {}),
        affinity: d.affinity,
      }, `places task ${req.task_id} on ${where}${d.affinity ? ' (session affinity)' : ''}`)
    },
    unplaced (req, r, correlationId) {
      narrator.narrate({ ...placementFields(req, correlationId), code: r.code, transient: r.transient, reasons: r.reasons },
        `cannot place task ${req.task_id}: ${r.message}`)
    },
    admitted (task, policy) {
      metrics.tasks_enqueued_total.inc({
        engine: task.req.engine,
        engine_version: task.engineVersion,
        pool_id: task.poolId,
        replica_id: task.replicaId,
        priority: task.req.priority,
      })
      say(task, 'admission', `admits task ${task.id} to ${task.poolId} at position ${task.admission.queue_position}`,
        { ...logIds(task), priority: task.req.priority, policy })
    },
    started (task, nowMs) {
      const sm = new StreamMetrics(metrics, {
        engine: task.req.engine,
        engine_version: task.engineVersion,
        pool_id: task.poolId,
        replica_id: task.replicaId,
        priority: task.req.priority,
      }, nowMs)
      say(task, 'started', `dispatches task ${task.id} to ${task.poolId}/${task.replicaId}`,
        { ...logIds(task), queue_time_ms: task.startedAt! - task.admittedAt })
      return sm
    },
    replaced (task, from) {
      say(task, 're-place', `moves queued task ${task.id} from draining ${from} to ${task.poolId}`, { from_pool: from, ...logIds(task) })
    },
    requeued (task, holdMs, cause) {
      say(task, 'requeue', `puts task ${task.id} back at the head of ${task.poolId}'s queue: its engine could not be reached; ` +
        `the pool is held ${holdMs} ms for its restart`, { ...logIds(task), cause, requeues: task.requeues, hold_ms: holdMs }, 'warn')
    },
    runFailed (task, error, human) {
      say(task, 'error', human, { ...logIds(task), error }, 'error')
    },
    engineFailed (task, kind, cause) {
      say(task, 'error', `engine failed task ${task.id}`, { ...logIds(task), error_kind: kind, cause }, 'error')
    },
    concluded (task, outcome, wasQueued) {
      switch (outcome.kind) {
        case 'completed':
          say(task, 'end', `task ${task.id} ends after ${task.tokensOut} tokens`, logIds(task))
          return
        case 'failed':
          say(task, 'error', `task ${task.id} fails with ${outcome.code}`, { ...logIds(task), code: outcome.code }, 'warn')
          return
        case 'aborted':
          if (!wasQueued) metrics.tasks_canceled_total.inc(canceledLabels(task, outcome.reason))
          say(task, 'error', `task ${task.id} aborts with ${outcome.code}`, { code: outcome.code, ...logIds(task) }, 'warn')
          return
        case 'canceled':
          metrics.tasks_canceled_total.inc(canceledLabels(task, outcome.reason))
          say(task, 'cancel', `cancels ${wasQueued ? 'queued' : 'running'} task ${task.id} (${outcome.reason})`,
            { canceled: true, reason: outcome.reason, ...logIds(task) })
          return
        case 'dropped':
          metrics.tasks_rejected_total.inc({ engine: task.req.engine, reason: 'QUEUE_FULL_DROP_LRU' })
          say(task, 'reject', `drops queued task ${task.id} to admit a newer one`, { code: 'QUEUE_FULL_DROP_LRU', ...logIds(task) }, 'warn')
      }
    },
  }
}

/** The ids every placement record carries. */
const placementFields = (req: TaskRequest, correlationId: string) =>
  ({ actor: 'orchestratord', action: 'placement', target: req.task_id, correlation_id: correlationId, task_id: req.task_id }) as const

/** queue_depth per (pool, priority); a label set that changes (new engine version) replaces the old one. */
export class QueueDepth {
  readonly #last = new Map<string, { engine: string, engine_version: string, pool_id: string, priority: string }>()
  readonly m: ContractMetrics
  constructor (m: ContractMetrics) { this.m = m }

  set (poolId: string, engine: string, engineVersion: string, priority: string, depth: number): void {
    const key = `${poolId}\n${priority}`
    const labels = { engine, engine_version: engineVersion, pool_id: poolId, priority }
    const prev = this.#last.get(key)
    if (prev && prev.engine_version !== engineVersion) this.m.queue_depth.remove(prev)
    this.#last.set(key, labels)
    this.m.queue_depth.set(labels, depth)
  }
}
