import type { Clock } from '../../lib/clock.js'
import type { Placement } from '../placement/index.js'
import type { PoolRegistry } from '../pool/index.js'
import type { SessionStore } from '../sessions/index.js'
import { jobOf } from './job.js'
import type { TaskLifecycle } from './lifecycle.js'
import type { PoolView } from './pools.js'
import type { Scheduler } from './scheduler.js'
import type { TasksConfig } from './schema.js'
import type { Task, TaskStore } from './tasks.js'
import type { Telemetry } from './telemetry.js'
import type { Throttle } from './throttle.js'

export interface SweepDeps {
  clock: Clock
  tasks: Pick<TaskStore, 'active' | 'get' | 'expire'>
  pools: PoolView
  registry: Pick<PoolRegistry, 'get'>
  placement: Pick<Placement, 'place'>
  scheduler: Pick<Scheduler, 'queue' | 'move' | 'pumpAll'>
  lifecycle: TaskLifecycle
  sessions: Pick<SessionStore, 'sweep'>
  telemetry: Pick<Telemetry, 'replaced'>
  throttle: Throttle | undefined
  retentionMs: TasksConfig['retention_ms']
}

/**
 * The one periodic sweep (no timer per task or session): deadlines of queued and running
 * tasks, wall and idle timeouts of running ones (§4.2), the queues of draining pools, expired
 * sessions and throttle buckets, finished tasks past retention, and a dispatch kick for pools
 * that became Ready since the last event.
 */
export function createSweep (deps: SweepDeps): () => void {
  const { clock, lifecycle, scheduler } = deps

  const watch = (task: Task, now: number): void => {
    if (now >= task.deadlineAt) {
      lifecycle.conclude(task, {
        kind: 'aborted',
        code: 'DEADLINE_UNMET',
        message: `the task's deadline_ms (${task.req.deadline_ms}) passed while it was ${task.state}`,
        reason: 'deadline',
      })
      return
    }
    if (task.state !== 'running') return
    const t = deps.pools.config(task.poolId).timeouts
    if (typeof t?.wall_ms === 'number' && now - task.startedAt! >= t.wall_ms) {
      lifecycle.conclude(task, {
        kind: 'aborted',
        code: 'DECODE_TIMEOUT',
        message: `the task ran longer than the pool's wall timeout (${t.wall_ms} ms)`,
        reason: 'watchdog',
      })
    } else if (typeof t?.idle_ms === 'number' && now - (task.lastTokenAt ?? task.startedAt!) >= t.idle_ms) {
      lifecycle.conclude(task, {
        kind: 'aborted',
        code: 'DECODE_TIMEOUT',
        message: `no token for ${t.idle_ms} ms (the pool's idle timeout)`,
        reason: 'watchdog',
      })
    }
  }

  /**
   * Tasks still queued on a draining pool (spec api-and-core §3, drain): each moves to another
   * feasible pool whose queue has room; where none exists it waits while the drain lasts and
   * fails with `POOL_UNREADY` (retriable) once the pool has stopped.
   */
  const replaceFromDraining = (): void => {
    for (const poolId of deps.pools.ids) {
      const q = scheduler.queue(poolId)!
      const entry = deps.registry.get(poolId)
      if (!entry || q.isEmpty() || !(entry.draining || entry.state === 'Draining')) continue
      for (const id of [...q.snapshot('interactive'), ...q.snapshot('batch')]) {
        const task = deps.tasks.get(id)
        if (task?.state !== 'queued') continue
        const decision = deps.placement.place(jobOf(task.req, (task.tokensIn ?? 0) + task.req.max_tokens), { queueLen: (p) => scheduler.queue(p)?.len() ?? 0 })
        const target = decision.kind === 'assigned' ? scheduler.queue(decision.poolId) : undefined
        if (decision.kind === 'assigned' && target && target.len() < target.capacity()) {
          scheduler.move(task, decision.poolId)
          task.replicaId = deps.pools.soleReplica(decision.poolId)
          task.engineVersion = deps.pools.engineVersion(decision.poolId)
          deps.telemetry.replaced(task, poolId)
        } else if (entry.state === 'Stopped') {
          lifecycle.conclude(task, {
            kind: 'aborted',
            code: 'POOL_UNREADY',
            reason: 'deadline',
            message: `pool ${poolId} was drained and no other pool serving ${task.req.model_ref} on ${task.req.engine} could take this task; resubmit it`,
          })
        }
      }
    }
  }

  return () => {
    const now = clock.nowMs()
    for (const task of deps.tasks.active()) watch(task, now)
    // the drain's deadline is the pool's: its queue waits while the drain lasts
    replaceFromDraining()
    deps.sessions.sweep()
    deps.throttle?.prune(now)
    deps.tasks.expire(now - deps.retentionMs)
    scheduler.pumpAll()
  }
}
