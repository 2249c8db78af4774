import { Type } from 'typebox'
import { Uuid } from '../../sdk/schema-helpers.js'

/** Wire schemas of the data plane (OrchQueue v1, spec api-and-core.md §2), for validation and OpenAPI. */
export const AdmissionResponse = Type.Object({
  task_id: Type.String(),
  queue_position: Type.Integer(),
  predicted_start_ms: Type.Integer(),
  backoff_ms: Type.Integer(),
})

export const TaskParams = Type.Object({ id: Uuid('task id') })
export const StreamQuery = Type.Object({
  cancel_on_disconnect: Type.Optional(Type.Boolean({
    description: 'closing the stream cancels the task (default false); on POST /v1/tasks only with Accept: text/event-stream',
  })),
})
