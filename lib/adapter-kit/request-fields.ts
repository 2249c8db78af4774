import type { TaskRequest } from '../../sdk/task.js'

/**
 * A task's stop sequences as the `stop` field of an engine body (issue 11), or nothing when it
 * has none, so engines that reject an empty list (or read it differently) never see one.
 */
export function stopField (req: Pick<TaskRequest, 'stop'>): { stop?: string[] } {
  return req.stop !== undefined && req.stop.length > 0 ? { stop: req.stop } : {}
}
