import type { Issue } from '../lib/validation.js'

/**
 * Keys the manifest once accepted (or the spec lists) that nothing honours, so the strict
 * schema no longer has them. A bare "is not a known key" would leave the user guessing, so
 * each one says what to use instead (issue 10 #14: honour a key or refuse it, naming it).
 */
const REMOVED: ReadonlyArray<{ at: RegExp, message: string }> = [
  {
    at: /^\/pools\/\d+\/admission$/,
    message: 'is not supported: per-priority queue capacity, rate and weight are not built; the queue serves interactive tasks before batch ' +
      "by each task's `priority` field (spec api-and-core §4.1.2). Remove it; size the queue with pools[].queue.capacity and limit clients with queue.throttle",
  },
  {
    at: /^\/pools\/\d+\/provisioning\/model\/cache_dir$/,
    message: 'is not supported: models are staged under the one catalog root (decision D10), never a per-pool folder. Remove it and set catalog.root instead',
  },
]

/** Replaces the schema's unknown-key message for a removed key with what to use instead. */
export function explainRemovedKeys (issues: Issue[]): Issue[] {
  return issues.map((issue) => {
    if (!issue.message.startsWith('is not a known key')) return issue
    const removed = REMOVED.find((r) => r.at.test(issue.path))
    return removed ? { path: issue.path, message: removed.message } : issue
  })
}
