import { Type } from 'typebox'

/** Wire schemas of the data plane (OrchQueue v1, spec api-and-core.md §2), for validation and OpenAPI. */
const INT32 = 2_147_483_647
const SafeInt = (o: Record<string, unknown> = {}) => Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, ...o })
const Uuid = (description: string) => Type.String({ format: 'uuid', description })

export const TaskRequest = Type.Object({
  task_id: Uuid('unique per server lifetime; resubmitting the same body replays the first answer'),
  session_id: Uuid('created on first use'),
  workload: Type.Enum(['completion', 'embedding', 'rerank']),
  model_ref: Type.String({ minLength: 1, description: 'hf:org/repo[/file.gguf], file:/abs, a relative path, https://, s3://, oci://' }),
  engine: Type.String({ minLength: 1, maxLength: 32, description: 'a built-in engine or one registered by an adapter extension' }),
  ctx: Type.Integer({ minimum: 0, maximum: INT32, description: '0 = the pool default' }),
  priority: Type.Enum(['interactive', 'batch']),
  seed: Type.Optional(SafeInt()),
  determinism: Type.Optional(Type.Enum(['strict', 'best_effort'])),
  sampler_profile_version: Type.Optional(Type.String({ minLength: 1 })),
  prompt: Type.Optional(Type.String()),
  inputs: Type.Optional(Type.Array(Type.String())),
  max_tokens: Type.Integer({ minimum: 1, maximum: INT32 }),
  deadline_ms: SafeInt({ description: 'relative budget in ms from admission; must be > 0' }),
  expected_tokens: Type.Optional(Type.Integer({ minimum: 0, maximum: INT32 })),
  kv_hint: Type.Optional(Type.Enum(['reuse', 'cold'])),
})

export const AdmissionResponse = Type.Object({
  task_id: Type.String(),
  queue_position: Type.Integer(),
  predicted_start_ms: Type.Integer(),
  backoff_ms: Type.Integer(),
})

export const ErrorEnvelope = Type.Object({
  code: Type.String(),
  message: Type.String(),
  engine: Type.Optional(Type.String()),
  retriable: Type.Optional(Type.Boolean()),
  retry_after_ms: Type.Optional(Type.Integer()),
  policy_label: Type.Optional(Type.String()),
  pool_id: Type.Optional(Type.String()),
})

export const SessionInfo = Type.Object({
  ttl_ms_remaining: Type.Integer(),
  turns: Type.Integer(),
  kv_bytes: Type.Integer(),
  kv_warmth: Type.Boolean(),
  tokens_budget_remaining: Type.Optional(Type.Integer()),
  time_budget_remaining_ms: Type.Optional(Type.Integer()),
  cost_budget_remaining: Type.Optional(Type.Number()),
})

export const TaskParams = Type.Object({ id: Uuid('task id') })
export const SessionParams = Type.Object({ id: Uuid('session id') })
export const StreamQuery = Type.Object({
  cancel_on_disconnect: Type.Optional(Type.Boolean({ description: 'closing the stream cancels the task (default false)' })),
})
