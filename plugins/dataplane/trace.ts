import type { ArtifactInput } from '../artifacts/index.js'
import type { Task } from './tasks.js'

/**
 * The transcript of a finished task as a `trace` artifact (spec api-and-core.md §2.2): the
 * frames its event log holds, tagged with the task and session, with the serving engine in
 * the metadata. A log trimmed by `tasks.event_log_max_frames` gives a trace with the same gap.
 */
export function traceOf (task: Task): ArtifactInput {
  return {
    kind: 'trace',
    content: { events: task.log.from(0).map(parseFrame) },
    tags: ['sse', 'stream', `task:${task.id}`, `session:${task.req.session_id}`],
    metadata: { engine: task.req.engine, engine_version: task.engineVersion, pool_id: task.poolId, replica_id: task.replicaId },
  }
}

/** `id: N\nevent: E\ndata: JSON\n\n` → `{ type: E, data }`. */
function parseFrame (frame: string): { type: string, data: unknown } {
  const eventAt = frame.indexOf('\nevent: ') + 8
  const dataAt = frame.indexOf('\ndata: ', eventAt)
  return { type: frame.slice(eventAt, dataAt), data: JSON.parse(frame.slice(dataAt + 7, -2)) }
}
