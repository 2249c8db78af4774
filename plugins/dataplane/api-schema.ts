import { Type } from 'typebox'

import { Uuid } from '../../sdk/schema-helpers.js'

/** Wire schemas of the data plane (OrchQueue v1, spec api-and-core.md §2), for validation and OpenAPI. */
export { TaskRequest } from '../../sdk/task.js'

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
