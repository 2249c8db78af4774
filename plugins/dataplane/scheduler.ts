import type { Priority } from '../../sdk/task.js'
import type { PoolRegistry } from '../pool/index.js'
import type { PoolView } from './pools.js'
import { AdmissionQueue, type EnqueueResult } from './queue.js'
import type { Task, TaskStore } from './tasks.js'

/**
 * The scheduler (spec api-and-core.md §4.1, §4.5): one admission queue per pool and the slot
 * leases of the pool registry. `pump` dispatches while a pool has a free slot and a queued
 * task: it takes the lease and hands the task to `start` (the runner, given by dataplane.ts).
 * Only Ready, non-draining pools have free slots. Every queue change updates queue_depth.
 * A pool whose engine could not be reached is held for a moment (`requeue`): its tasks wait
 * in the queue for the supervised restart instead of failing on a dead port (issue 10 #2).
 */
export interface Scheduler {
  queue (poolId: string): AdmissionQueue<string> | undefined
  /** Under the pool's full policy (decision 5); the admission check has made sure it fits. */
  enqueue (poolId: string, taskId: string, priority: Priority): EnqueueResult<string>
  /** A queued task leaves its queue (cancel, deadline, drain). */
  remove (task: Task): void
  /** A queued task moves to another pool's queue (re-placement from a draining pool). */
  move (task: Task, toPoolId: string): void
  pump (poolId: string): void
  pumpAll (): void
  /** Gives the task's slot back (once) and fills it from the queue. */
  release (task: Task): void
  /**
   * A dispatched task that never started goes back to the head of its queue, its slot is given
   * back, and the pool gets no dispatch before `holdUntilMs` (the sweep pumps it after that).
   */
  requeue (task: Task, holdUntilMs: number): void
}

export interface SchedulerDeps {
  pools: PoolView
  registry: Pick<PoolRegistry, 'slotsFree' | 'allocateLease' | 'releaseLease'>
  tasks: Pick<TaskStore, 'get'>
  /** queue_depth of a pool after its queue changed. */
  depth: (poolId: string, queue: AdmissionQueue<string>) => void
  start: (task: Task) => void
  now: () => number
}

export function createScheduler ({ pools, registry, tasks, depth, start, now }: SchedulerDeps): Scheduler {
  const queues = new Map<string, AdmissionQueue<string>>()
  const held = new Map<string, number>()
  for (const id of pools.ids) {
    const { capacity, full_policy: policy } = pools.config(id).queue
    queues.set(id, new AdmissionQueue<string>(capacity, policy))
  }
  const changed = (poolId: string): void => { depth(poolId, queues.get(poolId)!) }
  const pump = (poolId: string): void => {
    const q = queues.get(poolId)
    if (!q) return
    const until = held.get(poolId)
    if (until !== undefined) {
      if (now() < until) return
      held.delete(poolId)
    }
    let dequeued = false
    while (!q.isEmpty() && registry.slotsFree(poolId) > 0) {
      const next = q.dequeue()!
      dequeued = true
      const task = tasks.get(next.id)
      if (task?.state !== 'queued') continue
      registry.allocateLease(poolId)
      task.leaseHeld = true
      start(task)
    }
    if (dequeued) changed(poolId)
  }
  return {
    queue: (poolId) => queues.get(poolId),
    enqueue (poolId, taskId, priority) {
      const result = queues.get(poolId)!.enqueue(taskId, priority)
      changed(poolId)
      return result
    },
    remove (task) {
      queues.get(task.poolId)!.cancel(task.id)
      changed(task.poolId)
    },
    move (task, toPoolId) {
      const from = task.poolId
      queues.get(from)!.cancel(task.id)
      queues.get(toPoolId)!.enqueue(task.id, task.req.priority)
      task.poolId = toPoolId
      changed(from)
      changed(toPoolId)
    },
    pump,
    pumpAll () { for (const id of queues.keys()) pump(id) },
    release (task) {
      if (!task.leaseHeld) return
      task.leaseHeld = false
      registry.releaseLease(task.poolId)
      pump(task.poolId)
    },
    requeue (task, holdUntilMs) {
      held.set(task.poolId, Math.max(holdUntilMs, held.get(task.poolId) ?? 0))
      queues.get(task.poolId)!.requeue(task.id, task.req.priority)
      if (task.leaseHeld) {
        task.leaseHeld = false
        registry.releaseLease(task.poolId)
      }
      changed(task.poolId)
    },
  }
}
