import { randomUUID } from 'node:crypto'
import { ApiError } from '../../sdk/api.js'
import { TASK_DEFAULTS, type TaskRequest } from '../../sdk/task.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { canonicalJson } from '../../lib/canonical.js'
import { enginesServing } from '../../lib/models-served.js'

/** The server defaults of a sparse body (manifest `tasks.default_max_tokens`, `tasks.default_deadline_ms`). */
export interface TaskDefaults { max_tokens: number, deadline_ms: number }

export interface Filled {
  req: TaskRequest
  /** What D11 compares a resubmission on: the filled-in request, less a generated session id. */
  canonical: string
  /** The fields the server filled in, for messages that blame a default rather than the client. */
  defaulted: ReadonlySet<keyof TaskRequest>
}

/**
 * A `POST /v1/tasks` body with every omitted field filled in (issue 11 item 4). Pure but for
 * the random ids. The filled-in request is what the task is: a full body means what it meant
 * before, and a sparse one means the same as the full body with the defaults written out.
 *
 * Replay (§6 D11) compares the filled-in request, so a sparse body resubmitted with the same
 * `task_id` replays, and so does the same body with a default spelled out. A generated
 * `session_id` is random, so it takes no part: "no session_id" means the same each time, and
 * an explicit one is compared as sent. The defaults are the server's configuration and the
 * pools' configured models, which do not change while it runs, so a replay fills the same.
 *
 * `engine` absent: the one engine of the configured pools whose `model` is `model_ref`; several
 * → 400 naming `/engine` and listing them; none → 400 naming `/model_ref` with the models served
 * (the words placement uses for a model no pool serves, D21).
 */
export function fillTask (body: Partial<TaskRequest>, configs: readonly PoolConfig[], defaults: TaskDefaults): Filled {
  const defaulted = new Set<keyof TaskRequest>()
  const pick = <K extends keyof TaskRequest>(k: K, fallback: () => TaskRequest[K]): TaskRequest[K] => {
    const v = body[k]
    if (v !== undefined) return v as TaskRequest[K]
    defaulted.add(k)
    return fallback()
  }
  const req: TaskRequest = {
    ...body,
    task_id: pick('task_id', () => randomUUID()),
    session_id: pick('session_id', () => randomUUID()),
    workload: pick('workload', () => TASK_DEFAULTS.workload),
    model_ref: body.model_ref as string,
    engine: pick('engine', () => engineOf(configs, body.model_ref ?? '')),
    ctx: pick('ctx', () => TASK_DEFAULTS.ctx),
    priority: pick('priority', () => TASK_DEFAULTS.priority),
    max_tokens: pick('max_tokens', () => defaults.max_tokens),
    deadline_ms: pick('deadline_ms', () => defaults.deadline_ms),
  }
  const canonical = canonicalJson(defaulted.has('session_id') ? { ...req, session_id: undefined } : req)
  return { req, canonical, defaulted }
}

/** The engine that serves `model` among the configured pools, when there is exactly one. */
function engineOf (configs: readonly PoolConfig[], model: string): string {
  const engines = enginesServing(configs, model)
  if (engines.length === 1) return engines[0]!
  if (engines.length > 1) {
    const message = `/engine is required: model_ref ${JSON.stringify(model)} is served by several engines (${engines.join(', ')}); name one`
    throw new ApiError('INVALID_PARAMS', message)
  }
  const served = configs.length > 0
    ? `configured: ${configs.map((c) => `${c.id} serves model ${c.model} on engine ${c.engine}`).join('; ')}`
    : 'no pools are configured'
  throw new ApiError('INVALID_PARAMS', `/model_ref: no pool serves model ${JSON.stringify(model)} (${served}); pick a model a pool serves (GET /v1/pools)`)
}
