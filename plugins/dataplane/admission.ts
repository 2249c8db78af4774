import type { TaskRequest } from '../../sdk/index.js'
import { determinismOf, type Determinism } from '../../sdk/determinism.js'
import { ApiError, type ErrorKind } from '../../sdk/api.js'
import { canonicalJson } from '../../lib/canonical.js'
import { dropVictim } from './cancel.js'
import type { NoCapacityCode } from '../placement/index.js'
import { jobOf } from './job.js'
import { poolConfig, poolEngineVersion, updateDepth, type Core } from './core.js'
import { logIds, pump } from './dispatch.js'
import { backoffMs, estimateTokens, predictedStartMs, retryAfterMs } from './predict.js'
import { EventLog, frame, type AdmissionBody, type Task } from './tasks.js'

export interface Admitted { body: AdmissionBody, headers: Record<string, string>, replay: boolean }

/** The fields of TaskRequest that make two submissions "the same" (§6 D11); unknown fields are ignored. */
const TASK_FIELDS = ['task_id', 'session_id', 'workload', 'model_ref', 'engine', 'ctx', 'priority', 'seed', 'determinism',
  'sampler_profile_version', 'prompt', 'inputs', 'max_tokens', 'deadline_ms', 'expected_tokens', 'kv_hint'] as const

export function pickTaskRequest (body: Record<string, unknown>): TaskRequest {
  const out: Record<string, unknown> = {}
  for (const k of TASK_FIELDS) if (body[k] !== undefined) out[k] = body[k]
  return out as unknown as TaskRequest
}

/**
 * Admission (spec api-and-core.md §2.1) in the spec's order; the first failure wins and nothing
 * is enqueued, reserved or counted as a turn on failure (ORCH-3014). Each refusal after the body
 * named a registered engine counts in `tasks_rejected_total{engine, reason}` and is narrated.
 * `client` identifies the caller for the per-client throttle (its API key, else its address).
 */
export function admit (core: Core, raw: Record<string, unknown>, correlationId: string, client?: string): Admitted {
  const req = pickTaskRequest(raw)
  const engines = core.engines()
  if (!engines.includes(req.engine)) {
    throw new ApiError('INVALID_PARAMS', `/engine ${JSON.stringify(req.engine)} is not served here; registered engines: ${engines.join(', ') || 'none'}`, { engine: req.engine })
  }
  try {
    return pipeline(core, req, correlationId, client)
  } catch (err) {
    if (err instanceof ApiError) {
      core.metrics.tasks_rejected_total.inc({ engine: req.engine, reason: err.code })
      core.narrator.narrate({ actor: 'orchestratord', action: 'reject', target: req.task_id, correlation_id: correlationId, task_id: req.task_id, session_id: req.session_id, engine: req.engine, code: err.code, ...(err.options.pool_id ? { pool_id: err.options.pool_id } : {}) },
        `rejects task ${req.task_id}: ${err.code}`, err.statusCode >= 500 ? 'warn' : 'info')
    }
    throw err
  }
}

function invalid (message: string, engine: string): ApiError { return new ApiError('INVALID_PARAMS', message, { engine }) }

function pipeline (core: Core, req: TaskRequest, correlationId: string, client: string | undefined): Admitted {
  const { engine } = req
  // 1. semantic ranges the schema cannot express
  if ((req.workload === 'embedding' || req.workload === 'rerank') && !(req.inputs && req.inputs.length > 0)) {
    throw invalid(`/inputs is required and must be non-empty for workload ${req.workload}`, engine)
  }
  const caps = core.host.capabilities().find((c) => c.engine === engine)
  if (caps && !caps.supported_workloads.includes(req.workload)) {
    throw invalid(`/workload ${req.workload} is not supported by ${engine} (supported: ${caps.supported_workloads.join(', ')})`, engine)
  }
  // §6 D11: the same id with the same body replays the first 202; a different body is refused
  const canonical = canonicalJson(req)
  const existing = core.tasks.get(req.task_id)
  if (existing) {
    if (existing.canonical !== canonical) throw invalid(`/task_id ${req.task_id} already exists with a different body; use a new task_id`, engine)
    const s = core.sessions.get(req.session_id)
    return { body: existing.admission, headers: s ? core.sessions.headers(s) : {}, replay: true }
  }
  // 2. deadline
  if (req.deadline_ms <= 0) throw new ApiError('DEADLINE_UNMET', '/deadline_ms must be > 0 (a relative budget in ms from admission)', { engine })
  // 3. catalog lifecycle: the model named, or the catalog model every candidate pool serves
  const candidates = core.placement.snapshots().filter((p) => p.engine === engine && p.modelId === req.model_ref)
  const serving = candidates.map((p) => core.registry.get(p.id)?.model_id)
  if (core.lifecycle(req.model_ref) === 'Retired' ||
    (serving.length > 0 && serving.every((m) => m !== null && m !== undefined && core.lifecycle(m) === 'Retired'))) {
    throw new ApiError('MODEL_DEPRECATED', `model ${req.model_ref} is Retired in the catalog; pick an Active model`, { engine })
  }
  // 4. session: turns and budgets (D8)
  const session = core.sessions.prospective(req.session_id)
  const reservation = { tokens: req.max_tokens, time_ms: 0, cost: req.max_tokens * core.config.tasks.cost_per_token }
  const refusal = core.sessions.refusal(session, reservation)
  if (refusal) throw invalid(refusal, engine)
  // 5. guardrails: ctx and the prompt + generation budget against the candidate pools
  const promptTokens = estimateTokens(req)
  const ctxMax = Math.max(0, ...candidates.map((p) => p.ctxMax))
  if (candidates.length > 0 && req.ctx > ctxMax) throw invalid(`/ctx ${req.ctx} is over the largest ctx_max (${ctxMax}) of the pools serving ${req.model_ref}`, engine)
  const need = promptTokens + req.max_tokens
  if (req.ctx > 0 && need > req.ctx) throw invalid(`/max_tokens ${req.max_tokens} plus ~${promptTokens} prompt tokens exceed ctx ${req.ctx}`, engine)
  if (candidates.length > 0 && need > ctxMax) throw invalid(`/max_tokens ${req.max_tokens} plus ~${promptTokens} prompt tokens exceed ctx_max ${ctxMax}`, engine)
  // 6. per-API-token throttle (ORCH-3006)
  const wait = core.throttle && client !== undefined ? core.throttle.take(client, core.clock.nowMs()) : 0
  if (wait > 0) {
    core.metrics.admission_backpressure_events_total.inc({ engine, policy: 'rate-limit' })
    throw new ApiError('ADMISSION_REJECT', `this client is over its admission rate (queue.throttle); retry after ${wait} ms`, { engine, retry_after_ms: wait, policy_label: 'rate-limit' })
  }
  // 7. placement
  const aff = session.affinity
  const affinity = aff && req.kv_hint !== 'cold' && core.clock.nowMs() - aff.lastUsedMs < core.placement.config.affinity_ttl_ms
    ? { poolId: aff.poolId, ...(aff.replicaId ? { replicaId: aff.replicaId } : {}) }
    : undefined
  const decision = core.placement.place(
    jobOf(req, need),
    { affinity, queueLen: (id) => core.queues.get(id)?.len() ?? 0 },
  )
  if (decision.kind === 'no_capacity') {
    const code = core.placement.refusalCode(decision.reasons)
    const ids = Object.keys(decision.reasons).filter((k) => decision.reasons[k] !== 'ENGINE' && decision.reasons[k] !== 'MODEL')
    const pool = ids.length === 1 ? ids[0] : undefined
    throw unplaced(code, req, pool)
  }
  const poolId = decision.poolId
  const q = core.queues.get(poolId)!
  const cfg = poolConfig(core, poolId)
  const entry = core.registry.get(poolId)!
  const stats = core.stats.get(poolId)!
  // 8. predicted start against the deadline
  const slotsFree = core.registry.slotsFree(poolId)
  const ahead = req.priority === 'interactive' ? q.lenOf('interactive') : q.len()
  const predicted = predictedStartMs(Math.min(ahead, q.capacity() - 1), slotsFree, entry.slots_total, stats, core.config.queue.eta_per_item_ms)
  if (predicted >= req.deadline_ms) {
    throw new ApiError('DEADLINE_UNMET', `predicted start in ${predicted} ms is not before deadline_ms ${req.deadline_ms}; allow more time or retry later`, { engine, pool_id: poolId })
  }
  // 9. enqueue under the pool's policy (decision 5, §4.1.4, D3)
  const retryAfter = retryAfterMs(q.len(), entry.slots_total, stats, core.config.queue.eta_per_item_ms)
  const full = q.len() >= q.capacity()
  if (full && q.policy() === 'drop-lru' && req.priority === 'batch' && q.lenOf('batch') === 0) {
    throw backpressure(core, 'QUEUE_FULL_DROP_LRU', 'drop-lru', req, poolId, retryAfter)
  }
  const result = q.enqueue(req.task_id, req.priority)
  if (!result.ok) throw backpressure(core, 'ADMISSION_REJECT', 'reject', req, poolId, retryAfter)
  // 10. accept
  core.sessions.commit(session, reservation)
  const position = q.positionOf(req.task_id)!
  const body: AdmissionBody = {
    task_id: req.task_id,
    queue_position: position,
    predicted_start_ms: predictedStartMs(position, slotsFree, entry.slots_total, stats, core.config.queue.eta_per_item_ms),
    backoff_ms: backoffMs(q.len(), q.capacity(), core.config.queue.high_watermark, retryAfter),
  }
  const now = core.clock.nowMs()
  const hosts = core.host.replicas(poolId)
  const task: Task = {
    id: req.task_id, req, canonical, poolId, correlationId, state: 'queued', canceled: false,
    log: new EventLog(core.config.tasks.event_log_max_frames), listeners: new Set(), admission: body, reservation,
    admittedAt: now, deadlineAt: now + req.deadline_ms,
    replicaId: decision.replicaId ?? (affinity?.poolId === poolId ? affinity.replicaId : undefined) ?? (hosts.length === 1 ? hosts[0]!.replicaId : ''),
    engineVersion: poolEngineVersion(core, poolId),
    tokensOut: 0, tokensIn: promptTokens, decodeMs: 0, kvMigrated: false, leaseHeld: false,
  }
  task.log.append((seq) => frame(seq, 'started', startedData(body, task.engineVersion, determinismOf(req, cfg))))
  core.tasks.set(task.id, task)
  core.active.add(task)
  if (result.dropped) dropVictim(core, result.dropped.id)
  core.metrics.tasks_enqueued_total.inc({ engine, engine_version: task.engineVersion, pool_id: poolId, replica_id: task.replicaId, priority: req.priority })
  updateDepth(core, poolId)
  core.narrator.narrate({ actor: 'orchestratord', action: 'admission', target: task.id, ...logIds(core, task), priority: req.priority, policy: cfg.queue.full_policy },
    `admits task ${task.id} to ${poolId} at position ${body.queue_position}`)
  pump(core, poolId)
  return { body, headers: core.sessions.headers(session), replay: false }
}

function unplaced (code: NoCapacityCode, req: TaskRequest, poolId: string | undefined): ApiError {
  const messages: Record<typeof code, string> = {
    POOL_UNAVAILABLE: `no pool serves engine ${req.engine} with model ${req.model_ref}; check the pools in the manifest`,
    POOL_UNREADY: `the pools serving ${req.model_ref} on ${req.engine} are not Ready yet (preloading, reloading or draining); retry later`,
    REPLICA_EXHAUSTED: `the pools serving ${req.model_ref} have no VRAM headroom for this task; retry later`,
    INVALID_PARAMS: `/ctx: no pool serving ${req.model_ref} has a context that large`,
  }
  const retry = code === 'INVALID_PARAMS' ? {} : { retry_after_ms: 1000 }
  return new ApiError(code, messages[code], { engine: req.engine, pool_id: poolId, ...retry })
}

function backpressure (core: Core, code: ErrorKind, policy: 'reject' | 'drop-lru', req: TaskRequest, poolId: string, retryAfter: number): ApiError {
  core.metrics.admission_backpressure_events_total.inc({ engine: req.engine, policy })
  return new ApiError(code, `the queue of pool ${poolId} is full (policy ${policy}); retry after ${retryAfter} ms`, {
    engine: req.engine, pool_id: poolId, retry_after_ms: retryAfter, policy_label: policy,
  })
}

/**
 * The `started` frame: the 202's `queue_position` and `predicted_start_ms`, plus what makes a
 * run reproducible and is the same on every replica (adapters spec D20): engine version,
 * sampler profile and model digest, each when known. Replica ids stay in the logs.
 */
function startedData (body: AdmissionBody, engineVersion: string, d: Determinism): Record<string, unknown> {
  return {
    queue_position: body.queue_position,
    predicted_start_ms: body.predicted_start_ms,
    ...(engineVersion !== '' ? { engine_version: engineVersion } : {}),
    ...(d.sampler_profile_version !== undefined ? { sampler_profile_version: d.sampler_profile_version } : {}),
    ...(d.model_digest !== undefined ? { model_digest: d.model_digest } : {}),
  }
}
