import type { EngineCapability } from '../../sdk/adapter.js'
import { ApiError, type ErrorKind } from '../../sdk/api.js'
import { determinismOf, type Determinism } from '../../sdk/determinism.js'
import { TaskRequest } from '../../sdk/task.js'
import type { Clock } from '../../lib/clock.js'
import type { Placement, Refusal } from '../placement/index.js'
import type { PoolRegistry } from '../pool/index.js'
import type { Reservation, Session, SessionStore } from '../sessions/index.js'
import { frame } from './event-log.js'
import { fillTask, type TaskDefaults } from './fill.js'
import { unhonoured } from './honour.js'
import { jobOf } from './job.js'
import type { TaskLifecycle } from './lifecycle.js'
import { pinRefusal, type PoolView } from './pools.js'
import { backoffMs, estimateTokens, predictedStartMs, retryAfterMs, type PoolStats } from './predict.js'
import type { Scheduler } from './scheduler.js'
import { DEFAULT_DEADLINE_MS, DEFAULT_MAX_TOKENS, type QueueDefaults } from './schema.js'
import type { AdmissionBody, TaskStore } from './tasks.js'
import type { Telemetry } from './telemetry.js'
import type { Throttle } from './throttle.js'

export interface Admitted { body: AdmissionBody, headers: Record<string, string>, replay: boolean }

/** Catalog lifecycle of a model, undefined when the catalog does not know it. */
export type ModelLifecycle = (modelId: string) => 'Active' | 'Retired' | undefined

export interface AdmissionDeps {
  clock: Clock
  /** The engines adapters have registered (decision 7). */
  engines: () => string[]
  capabilities: () => EngineCapability[]
  modelLifecycle: ModelLifecycle
  pools: PoolView
  registry: Pick<PoolRegistry, 'get' | 'slotsFree'>
  placement: Pick<Placement, 'snapshots' | 'place' | 'refusal' | 'config'>
  sessions: Pick<SessionStore, 'get' | 'prospective' | 'refusal' | 'commit' | 'headers'>
  tasks: Pick<TaskStore, 'get' | 'create'>
  scheduler: Pick<Scheduler, 'queue' | 'enqueue' | 'pump'>
  lifecycle: TaskLifecycle
  stats: ReadonlyMap<string, PoolStats>
  telemetry: Pick<Telemetry, 'refused' | 'backpressure' | 'admitted' | 'placed' | 'unplaced'>
  throttle: Throttle | undefined
  queue: QueueDefaults
  costPerToken: number
  eventLogMaxFrames: number
  /** max_tokens and deadline_ms of a body that omits them (issue 11); absent: the manifest's default values. */
  taskDefaults?: TaskDefaults
}

/** `tasks.default_max_tokens` and `tasks.default_deadline_ms` as the manifest schema defaults them. */
const SCHEMA_TASK_DEFAULTS: TaskDefaults = { max_tokens: DEFAULT_MAX_TOKENS, deadline_ms: DEFAULT_DEADLINE_MS }

/** Everything the checks decided: the task goes to `poolId`, nothing can refuse it any more. */
interface Plan {
  req: TaskRequest
  canonical: string
  correlationId: string
  poolId: string
  replicaId: string | undefined
  session: Session
  reservation: Reservation
  promptTokens: number
  slotsFree: number
  retryAfter: number
}

/** The fields of TaskRequest that make two submissions "the same" (§6 D11); unknown fields are ignored. */
// the schema's own field list, so a field added to the task cannot be dropped here by omission
const TASK_FIELDS = Object.keys(TaskRequest.properties) as Array<keyof TaskRequest>

export function pickTaskRequest (body: Record<string, unknown>): Partial<TaskRequest> {
  const out: Record<string, unknown> = {}
  for (const k of TASK_FIELDS) if (body[k] !== undefined) out[k] = body[k]
  return out as Partial<TaskRequest>
}

/** Says so when a refused value is the server's default rather than the client's (issue 11). */
const byDefault = (defaulted: ReadonlySet<keyof TaskRequest>, field: 'max_tokens' | 'deadline_ms'): string =>
  defaulted.has(field) ? ` (the server default tasks.default_${field}; send ${field} to choose)` : ''

const invalid = (message: string, engine: string): ApiError => new ApiError('INVALID_PARAMS', message, { engine })

/**
 * Admission (spec api-and-core.md §2.1): the checks in the spec's order, the first failure
 * wins and nothing is enqueued, reserved or counted as a turn on failure (ORCH-3014); then
 * the task is enqueued, created with its `started` frame, its session's turn and reservation
 * are taken, a drop-lru victim is concluded, and the scheduler is pumped. The body's omitted
 * fields are filled in first (fill.ts, issue 11). Each refusal after the filled-in request
 * names a registered engine counts in `tasks_rejected_total{engine, reason}` and is
 * narrated. `client` identifies the caller for the per-client throttle.
 */
export function createAdmission (deps: AdmissionDeps): { admit (raw: Record<string, unknown>, correlationId: string, client?: string): Admitted } {
  const { clock, scheduler, sessions } = deps
  const taskDefaults = deps.taskDefaults ?? SCHEMA_TASK_DEFAULTS

  const backpressure = (code: ErrorKind, policy: 'reject' | 'drop-lru', req: TaskRequest, poolId: string, retryAfter: number): ApiError => {
    deps.telemetry.backpressure(req.engine, policy)
    return new ApiError(code, `the queue of pool ${poolId} is full (policy ${policy}); retry after ${retryAfter} ms`, {
      engine: req.engine, pool_id: poolId, retry_after_ms: retryAfter, policy_label: policy,
    })
  }

  const check = (
    req: TaskRequest, canonical: string, defaulted: ReadonlySet<keyof TaskRequest>, correlationId: string, client: string | undefined
  ): Plan | Admitted => {
    const { engine } = req
    // 1. semantic ranges the schema cannot express
    if (req.messages !== undefined && req.prompt !== undefined) throw invalid('/messages and /prompt: send one of them (a chat or a prompt)', engine)
    if (req.workload === 'completion' && req.messages === undefined && (req.prompt === undefined || req.prompt === '')) {
      throw invalid('/prompt is required and must be non-empty for workload completion (or send /messages for a chat)', engine)
    }
    if ((req.workload === 'embedding' || req.workload === 'rerank') && !(req.inputs && req.inputs.length > 0)) {
      throw invalid(`/inputs is required and must be non-empty for workload ${req.workload}`, engine)
    }
    // one snapshot of every engine's capabilities per admission (it is rebuilt on each call)
    const engines = deps.capabilities()
    const caps = engines.find((c) => c.engine === engine)
    if (caps && !caps.supported_workloads.includes(req.workload)) {
      throw invalid(`/workload ${req.workload} is not supported by ${engine} (supported: ${caps.supported_workloads.join(', ')})`, engine)
    }
    const refusedField = unhonoured(req, caps, engines)
    if (refusedField !== undefined) throw invalid(refusedField, engine)
    // §6 D11: the same id with the same body (filled in, fill.ts) replays the first 202; a different body is refused
    const existing = deps.tasks.get(req.task_id)
    if (existing) {
      if (existing.canonical !== canonical) throw invalid(`/task_id ${req.task_id} already exists with a different body; use a new task_id`, engine)
      const s = sessions.get(req.session_id)
      return { body: existing.admission, headers: s ? sessions.headers(s) : {}, replay: true }
    }
    // 2. deadline
    if (req.deadline_ms <= 0) throw new ApiError('DEADLINE_UNMET', '/deadline_ms must be > 0 (a relative budget in ms from admission)', { engine })
    // 3. catalog lifecycle: the model named, or the catalog model every candidate pool serves
    const candidates = deps.placement.snapshots().filter((p) => p.engine === engine && p.modelId === req.model_ref)
    const serving = candidates.map((p) => deps.registry.get(p.id)?.model_id)
    if (deps.modelLifecycle(req.model_ref) === 'Retired' ||
      (serving.length > 0 && serving.every((m) => m !== null && m !== undefined && deps.modelLifecycle(m) === 'Retired'))) {
      throw new ApiError('MODEL_DEPRECATED', `model ${req.model_ref} is Retired in the catalog; pick an Active model`, { engine })
    }
    // 4. session: turns and budgets (D8)
    const session = sessions.prospective(req.session_id)
    const reservation = { tokens: req.max_tokens, time_ms: 0, cost: req.max_tokens * deps.costPerToken }
    const refusal = sessions.refusal(session, reservation)
    if (refusal) throw invalid(refusal, engine)
    // 5. guardrails: ctx and the prompt + generation budget against the candidate pools
    const promptTokens = estimateTokens(req)
    const ctxMax = Math.max(0, ...candidates.map((p) => p.ctxMax))
    if (candidates.length > 0 && req.ctx > ctxMax) {
      throw invalid(`/ctx ${req.ctx} is over the largest ctx_max (${ctxMax}) of the pools serving ${req.model_ref}`, engine)
    }
    const need = promptTokens + req.max_tokens
    const mt = byDefault(defaulted, 'max_tokens')
    if (req.ctx > 0 && need > req.ctx) throw invalid(`/max_tokens ${req.max_tokens}${mt} plus ~${promptTokens} prompt tokens exceed ctx ${req.ctx}`, engine)
    if (candidates.length > 0 && need > ctxMax) {
      throw invalid(`/max_tokens ${req.max_tokens}${mt} plus ~${promptTokens} prompt tokens exceed ctx_max ${ctxMax}`, engine)
    }
    // 6. per-API-token throttle (ORCH-3006)
    const wait = deps.throttle && client !== undefined ? deps.throttle.take(client, clock.nowMs()) : 0
    if (wait > 0) {
      deps.telemetry.backpressure(engine, 'rate-limit')
      throw new ApiError('ADMISSION_REJECT', `this client is over its admission rate (queue.throttle); retry after ${wait} ms`, {
        engine,
        retry_after_ms: wait,
        policy_label: 'rate-limit',
      })
    }
    // 7. placement, or the pool (and replica) the task pins
    const pin = req.placement
    if (pin) {
      const refused = pinRefusal(pin, deps.pools)
      if (refused) throw invalid(refused, engine)
    }
    const aff = session.affinity
    const affinity = aff && req.kv_hint !== 'cold' && clock.nowMs() - aff.lastUsedMs < deps.placement.config.affinity_ttl_ms
      ? { poolId: aff.poolId, ...(aff.replicaId ? { replicaId: aff.replicaId } : {}) }
      : undefined
    const job = jobOf(req, need)
    const decision = deps.placement.place(job, { affinity, queueLen: (id) => scheduler.queue(id)?.len() ?? 0, pin: pin?.pin_pool_id })
    if (decision.kind === 'no_capacity') {
      const refusal = deps.placement.refusal(job, decision.reasons)
      deps.telemetry.unplaced(req, refusal, correlationId)
      throw unplaced(refusal, req)
    }
    deps.telemetry.placed(req, decision, correlationId)
    const poolId = decision.poolId
    const q = scheduler.queue(poolId)!
    const slotsTotal = deps.registry.get(poolId)!.slots_total
    const stats = deps.stats.get(poolId)!
    // 8. predicted start against the deadline
    const slotsFree = deps.registry.slotsFree(poolId)
    const ahead = req.priority === 'interactive' ? q.lenOf('interactive') : q.len()
    const predicted = predictedStartMs(Math.min(ahead, q.capacity() - 1), slotsFree, slotsTotal, stats, deps.queue.eta_per_item_ms)
    if (predicted >= req.deadline_ms) {
      throw new ApiError(
        'DEADLINE_UNMET',
        `predicted start in ${predicted} ms is not before deadline_ms ${req.deadline_ms}${byDefault(defaulted, 'deadline_ms')}; allow more time or retry later`,
        { engine, pool_id: poolId }
      )
    }
    // 9. room in the queue under the pool's policy (decision 5, §4.1.4, D3)
    const retryAfter = retryAfterMs(q.len(), slotsTotal, stats, deps.queue.eta_per_item_ms)
    if (q.len() >= q.capacity()) {
      if (q.policy() === 'reject') throw backpressure('ADMISSION_REJECT', 'reject', req, poolId, retryAfter)
      if (req.priority === 'batch' && q.lenOf('batch') === 0) throw backpressure('QUEUE_FULL_DROP_LRU', 'drop-lru', req, poolId, retryAfter)
    }
    const replicaId = pin?.pin_replica_id ?? decision.replicaId ?? (affinity?.poolId === poolId ? affinity.replicaId : undefined)
    return { req, canonical, correlationId, poolId, replicaId, session, reservation, promptTokens, slotsFree, retryAfter }
  }

  const accept = (plan: Plan): Admitted => {
    const { req, poolId, session } = plan
    const q = scheduler.queue(poolId)!
    const result = scheduler.enqueue(poolId, req.task_id, req.priority)
    sessions.commit(session, plan.reservation)
    const position = q.positionOf(req.task_id)!
    const body: AdmissionBody = {
      task_id: req.task_id,
      queue_position: position,
      predicted_start_ms: predictedStartMs(
        position,
        plan.slotsFree,
        deps.registry.get(poolId)!.slots_total,
        deps.stats.get(poolId)!,
        deps.queue.eta_per_item_ms
      ),
      backoff_ms: backoffMs(q.len(), q.capacity(), deps.queue.high_watermark, plan.retryAfter),
    }
    const now = clock.nowMs()
    const task = deps.tasks.create({
      id: req.task_id,
      req,
      canonical: plan.canonical,
      poolId,
      correlationId: plan.correlationId,
      admission: body,
      reservation: plan.reservation,
      admittedAt: now,
      deadlineAt: now + req.deadline_ms,
      replicaId: plan.replicaId ?? deps.pools.soleReplica(poolId),
      engineVersion: deps.pools.engineVersion(poolId),
      tokensIn: plan.promptTokens,
    }, deps.eventLogMaxFrames)
    const build = deps.pools.engineBuild(poolId)
    task.log.append((seq) => frame(seq, 'started', startedData(body, task.engineVersion, build, determinismOf(req, deps.pools.config(poolId)))))
    const victim = result.ok && result.dropped ? deps.tasks.get(result.dropped.id) : undefined
    if (victim?.state === 'queued') deps.lifecycle.conclude(victim, { kind: 'dropped' })
    deps.telemetry.admitted(task, deps.pools.config(poolId).queue.full_policy)
    scheduler.pump(poolId)
    return { body, headers: sessions.headers(session), replay: false }
  }

  return {
    admit (raw, correlationId, client) {
      // issue 11: omitted fields get their defaults first; an engine that cannot be inferred is refused here, uncounted
      const { req, canonical, defaulted } = fillTask(pickTaskRequest(raw), deps.pools.ids.map((id) => deps.pools.config(id)), taskDefaults)
      const engines = deps.engines()
      if (!engines.includes(req.engine)) {
        throw new ApiError(
          'INVALID_PARAMS',
          `/engine ${JSON.stringify(req.engine)} is not served here; registered engines: ${engines.join(', ') || 'none'}`,
          { engine: req.engine }
        )
      }
      let plan: Plan | Admitted
      try {
        plan = check(req, canonical, defaulted, correlationId, client)
      } catch (err) {
        if (err instanceof ApiError) deps.telemetry.refused(req, err, correlationId)
        throw err
      }
      return 'body' in plan ? plan : accept(plan)
    },
  }
}

/** A refusal waiting can clear is a 503 with retry advice; one it cannot is a 400 (issue 10 #10). */
function unplaced (r: Refusal, req: TaskRequest): ApiError {
  return new ApiError(r.code, r.message, { engine: req.engine, pool_id: r.poolId, ...(r.transient ? { retry_after_ms: 1000 } : {}) })
}

/**
 * The `started` frame: the 202's `queue_position` and `predicted_start_ms`, plus what makes a
 * run reproducible and is the same on every replica (adapters spec D20): engine version,
 * engine digest and EngineEntry id, sampler profile and model digest, each when known.
 * Replica ids stay in the logs.
 */
type EngineBuildIds = ReturnType<PoolView['engineBuild']>

function startedData (body: AdmissionBody, engineVersion: string, build: EngineBuildIds, d: Determinism): Record<string, unknown> {
  return {
    queue_position: body.queue_position,
    predicted_start_ms: body.predicted_start_ms,
    ...(engineVersion !== '' ? { engine_version: engineVersion } : {}),
    ...(build.digest !== null ? { engine_digest: build.digest } : {}),
    ...(build.catalogId !== null ? { engine_catalog_id: build.catalogId } : {}),
    ...(d.sampler_profile_version !== undefined ? { sampler_profile_version: d.sampler_profile_version } : {}),
    ...(d.model_digest !== undefined ? { model_digest: d.model_digest } : {}),
  }
}
