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
}

export interface SchedulerDeps {
  pools: PoolView
  registry: Pick<PoolRegistry, 'slotsFree' | 'allocateLease' | 'releaseLease'>
  tasks: Pick<TaskStore, 'get'>
  /** queue_depth of a pool after its queue changed. */
  depth: (poolId: string, queue: AdmissionQueue<string>) => void
  start: (task: Task) => void
}

export function createScheduler ({ pools, registry, tasks, depth, start }: SchedulerDeps): Scheduler {
  const queues = new Map<string, AdmissionQueue<string>>()
  for (const id of pools.ids) {
    const { capacity, full_policy: policy } = pools.config(id).queue
    queues.set(id, new AdmissionQueue<string>(capacity, policy))
  }
  const changed = (poolId: string): void => { depth(poolId, queues.get(poolId)!) }
  const pump = (poolId: string): void => {
    const q = queues.get(poolId)
    if (!q) return
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
  }
}
