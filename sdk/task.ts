import { Type, type Static } from 'typebox'
import { Uuid } from './schema-helpers.js'
import { Sampling } from './sampling.js'

const INT32 = 2_147_483_647
const SafeInt = (o: Record<string, unknown> = {}) => Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, ...o })

const WORKLOADS = ['completion', 'embedding', 'rerank'] as const
const PRIORITIES = ['interactive', 'batch'] as const

/** Every field of a task, as the filled-in request has it. */
const fields = {
  task_id: Uuid('unique per server lifetime; resubmitting the same body replays the first answer'),
  session_id: Uuid('created on first use'),
  workload: Type.Enum(WORKLOADS),
  model_ref: Type.String({ minLength: 1, description: 'hf:org/repo[/file.gguf], file:/abs, a relative path, https://, s3://, oci://' }),
  engine: Type.String({ minLength: 1, maxLength: 32, description: 'a built-in engine or one registered by an adapter extension' }),
  ctx: Type.Integer({ minimum: 0, maximum: INT32, description: '0 = the pool default' }),
  priority: Type.Enum(PRIORITIES),
  seed: Type.Optional(SafeInt()),
  determinism: Type.Optional(Type.Enum(['strict', 'best_effort'])),
  sampler_profile_version: Type.Optional(Type.String({ minLength: 1 })),
  prompt: Type.Optional(Type.String()),
  inputs: Type.Optional(Type.Array(Type.String())),
  max_tokens: Type.Integer({ minimum: 1, maximum: INT32 }),
  deadline_ms: SafeInt({ description: 'relative budget in ms from admission; must be > 0' }),
  expected_tokens: Type.Optional(Type.Integer({ minimum: 0, maximum: INT32 })),
  kv_hint: Type.Optional(Type.Enum(['reuse', 'cold'])),
  stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
    maxItems: 4,
    description: 'stop sequences (issue 11): generation ends before the first one, which is not in the output; engines that cannot honour them refuse the task',
  })),
  sampling: Type.Optional(Sampling),
  placement: Type.Optional(Type.Object({
    pin_pool_id: Type.String({ minLength: 1, description: 'run on this pool only: 400 when no such pool is configured, 503 while it is not Ready' }),
    pin_replica_id: Type.Optional(Type.String({
      minLength: 1,
      description: 'and on this replica of it (<pool>-r<k>): 400 when the pool has no such replica; a task dispatched while it is down ends POOL_UNAVAILABLE',
    })),
  }, {
    additionalProperties: false,
    description: 'placement override (spec api-and-core §2.1 TaskRequest.placement): pins the task to a pool, or one replica of it, instead of ' +
      'the scored choice; for determinism checks, debugging and canaries',
  })),
  messages: Type.Optional(Type.Array(Type.Object({
    role: Type.Enum(['system', 'user', 'assistant']),
    content: Type.String(),
  }, { additionalProperties: false }), {
    minItems: 1,
    maxItems: 512,
    description: 'a chat (issue 11), instead of `prompt`: the engine renders it with the model\'s own chat template and continues as the assistant',
  })),
}

/**
 * The public task (OrchQueue v1 TaskRequest, spec api-and-core.md §2.1) once admission has
 * filled in what the client left out: what the task is, what its replay is compared on (D11)
 * and what an adapter receives to stream. Every field the wire body may omit is set here.
 */
export const TaskRequest = Type.Object(fields)

/** The defaults admission fills in that do not depend on the server's configuration (issue 11 item 4). */
export const TASK_DEFAULTS = { workload: 'completion', ctx: 0, priority: 'interactive' } as const

/**
 * The body of `POST /v1/tasks` (issue 11 item 4): the same fields, of which only `model_ref`
 * is required. A full body valid before stays valid and means the same; an omitted field gets
 * the default its description names. The `default` keywords are documentation (OpenAPI):
 * admission fills the same values itself, so `app.dataplane.admit` callers get them too.
 */
export const TaskSubmission = Type.Object({
  ...fields,
  task_id: Type.Optional(Uuid('unique per server lifetime; resubmitting the same body replays the first answer. ' +
    'Absent: the server generates a random UUID, returned in the 202 body and its Location header')),
  session_id: Type.Optional(Uuid('created on first use. Absent: a fresh session of its own (it then holds this one task); ' +
    'send the same id to group tasks (KV reuse, turns, budgets)')),
  workload: Type.Optional(Type.Enum(WORKLOADS, { default: TASK_DEFAULTS.workload })),
  engine: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 32,
    description: 'a built-in engine or one registered by an adapter extension. Absent: the engine of the configured pools ' +
      'whose model is model_ref, when exactly one engine serves it (several: 400 naming /engine and listing them)',
  })),
  ctx: Type.Optional(Type.Integer({ minimum: 0, maximum: INT32, default: TASK_DEFAULTS.ctx, description: '0 = the pool default' })),
  priority: Type.Optional(Type.Enum(PRIORITIES, { default: TASK_DEFAULTS.priority })),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: INT32, description: 'absent: the server default (manifest tasks.default_max_tokens)' })),
  deadline_ms: Type.Optional(SafeInt({
    description: 'relative budget in ms from admission; must be > 0. Absent: the server default (manifest tasks.default_deadline_ms)',
  })),
})

export type TaskRequest = Static<typeof TaskRequest>
export type TaskSubmission = Static<typeof TaskSubmission>
export type Workload = TaskRequest['workload']
export type Priority = TaskRequest['priority']
