import type { ErrorKind } from '../../sdk/api.js'
import { poolEngineVersion, updateDepth, type Core } from './core.js'
import { logIds } from './dispatch.js'
import { jobOf } from './job.js'
import type { Task } from './tasks.js'

/**
 * Tasks still queued on a draining pool (spec api-and-core §3, drain): each is moved to
 * another feasible pool whose queue has room; where none exists it waits while the drain
 * lasts and fails with `POOL_UNREADY` (retriable) once the pool has stopped. Run by the
 * periodic sweep, so a drain is acted on within `tasks.sweep_interval_ms`.
 */
export function replaceFromDraining (core: Core, fail: (task: Task, code: ErrorKind, message: string) => void): void {
  for (const [poolId, q] of core.queues) {
    const entry = core.registry.get(poolId)
    if (!entry || q.isEmpty() || !(entry.draining || entry.state === 'Draining')) continue
    const ids = [...q.snapshot('interactive'), ...q.snapshot('batch')]
    for (const id of ids) {
      const task = core.tasks.get(id)
      if (task?.state !== 'queued') continue
      const decision = core.placement.place(jobOf(task.req, (task.tokensIn ?? 0) + task.req.max_tokens), { queueLen: (p) => core.queues.get(p)?.len() ?? 0 })
      const target = decision.kind === 'assigned' ? core.queues.get(decision.poolId) : undefined
      if (decision.kind === 'assigned' && target && target.len() < target.capacity()) {
        q.cancel(id)
        target.enqueue(id, task.req.priority)
        moveTo(core, task, decision.poolId)
        continue
      }
      if (entry.state === 'Stopped') {
        fail(task, 'POOL_UNREADY', `pool ${poolId} was drained and no other pool serving ${task.req.model_ref} on ${task.req.engine} could take this task; resubmit it`)
      }
    }
    updateDepth(core, poolId)
  }
}

function moveTo (core: Core, task: Task, poolId: string): void {
  const from = task.poolId
  task.poolId = poolId
  const hosts = core.host.replicas(poolId)
  task.replicaId = hosts.length === 1 ? hosts[0]!.replicaId : ''
  task.engineVersion = poolEngineVersion(core, poolId)
  updateDepth(core, poolId)
  core.narrator.narrate({ actor: 'orchestratord', action: 're-place', target: task.id, from_pool: from, ...logIds(core, task) },
    `moves queued task ${task.id} from draining ${from} to ${poolId}`)
}
