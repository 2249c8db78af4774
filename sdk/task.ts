import { Type, type Static } from 'typebox'
import { Uuid } from './schema-helpers.js'

const INT32 = 2_147_483_647
const SafeInt = (o: Record<string, unknown> = {}) => Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, ...o })

/**
 * The public task (OrchQueue v1 TaskRequest, spec api-and-core.md §2.1): the body of
 * `POST /v1/tasks` as the route validates it, and what an adapter receives to stream.
 */
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

export type TaskRequest = Static<typeof TaskRequest>
export type Workload = TaskRequest['workload']
export type Priority = TaskRequest['priority']
