import type { TaskRequest } from '../../sdk/task.js'
import type { ErrorKind } from '../../sdk/api.js'
import type { Reservation } from '../sessions/index.js'
import { EventLog, frame, type Listener } from './event-log.js'
import type { StreamMetrics } from './stream-metrics.js'

/** Where a task is in its life (spec api-and-core.md §2.2); every state but the first two is terminal. */
export type TaskState = 'queued' | 'running' | 'completed' | 'failed' | 'canceled' | 'dropped' | 'expired'

export interface AdmissionBody { task_id: string, queue_position: number, predicted_start_ms: number, backoff_ms: number }

export interface Task {
  readonly id: string
  readonly req: TaskRequest
  /** Canonical JSON of the validated body, for duplicate detection (§6 D11). */
  readonly canonical: string
  /** Changes only while queued, when a draining pool's queue is re-placed (sweep.ts). */
  poolId: string
  readonly correlationId: string
  state: TaskState
  /** Set synchronously by cancel, before its 204 (ORCH-3026); nothing is appended after it but `end`. */
  canceled: boolean
  readonly log: EventLog
  readonly listeners: Set<Listener>
  readonly admission: AdmissionBody
  readonly reservation: Reservation
  readonly admittedAt: number
  readonly deadlineAt: number
  replicaId: string
  engineVersion: string
  startedAt?: number
  firstTokenAt?: number
  lastTokenAt?: number
  endedAt?: number
  tokensOut: number
  tokensIn?: number
  decodeMs: number
  /** Why the engine stopped (its `end` event): `eos`, `stop`, `length` or `canceled`. */
  stopReason?: 'eos' | 'length' | 'stop' | 'canceled'
  controller?: AbortController
  /** A slot lease is held from dispatch until the terminal frame. */
  leaseHeld: boolean
  /** Times the task went back to its queue because its engine could not be reached (issue 10 #2). */
  requeues: number
  /** Failover: the session's affine pool was not used; the first metrics frame says so (§4.3.4). */
  kvMigrated: boolean
  /** The stream's contract metrics, from its `started` event to its terminal frame. */
  stream?: StreamMetrics
  /** The error code a watchdog aborted the task with, if it did. */
  abortedWith?: ErrorKind
  /** Id of the task's `trace` artifact once it is stored. */
  traceId?: string
}

/** Appends and wakes every subscriber; `terminal` closes the log (nothing after it, ever). */
export function emit (task: Task, build: (seq: number) => string, terminal = false): void {
  if (!task.log.append(build, terminal)) return
  for (const l of task.listeners) l.notify()
}

export function emitEnd (task: Task, data: Record<string, unknown>): void {
  emit(task, (seq) => frame(seq, 'end', data), true)
}

export function emitError (task: Task, code: ErrorKind, message: string): void {
  emit(task, (seq) => frame(seq, 'error', { code, message, engine: task.req.engine }), true)
}

/** What a new task starts from: everything admission decided about it. */
export type NewTask = Pick<
  Task,
  | 'id' | 'req' | 'canonical' | 'poolId' | 'correlationId' | 'admission' | 'reservation'
  | 'admittedAt' | 'deadlineAt' | 'replicaId' | 'engineVersion'
> & { tokensIn: number }

/**
 * The task registry: every task by id, the queued and running ones (what the sweep watches),
 * and finished ones in the order they finished, kept for `retention_ms` so that their event
 * log can still be replayed (D12).
 */
export interface TaskStore {
  get (id: string): Task | undefined
  /** A new queued task with an empty log of at most `maxFrames` frames. */
  create (t: NewTask, maxFrames: number): Task
  /** Queued and running tasks, as an array the caller may end tasks while walking. */
  active (): Task[]
  all (): IterableIterator<Task>
  /** Moves a task that reached its terminal frame to the retention list; once per task. */
  retire (task: Task, nowMs: number): void
  /** Forgets finished tasks that ended at or before `horizonMs` and have no open subscriber. */
  expire (horizonMs: number): void
}

/** `onRetire` hears of each task once, at its terminal frame (the transcript artifact). */
export function createTaskStore (onRetire?: (task: Task) => void): TaskStore {
  const tasks = new Map<string, Task>()
  const active = new Set<Task>()
  const finished = new Map<string, Task>()
  return {
    get: (id) => tasks.get(id),
    create (t, maxFrames) {
      const task: Task = {
        ...t,
        state: 'queued',
        canceled: false,
        log: new EventLog(maxFrames),
        listeners: new Set(),
        tokensOut: 0,
        decodeMs: 0,
        kvMigrated: false,
        leaseHeld: false,
        requeues: 0,
      }
      tasks.set(task.id, task)
      active.add(task)
      return task
    },
    active: () => [...active],
    all: () => tasks.values(),
    retire (task, nowMs) {
      if (finished.has(task.id)) return
      task.endedAt ??= nowMs
      active.delete(task)
      finished.set(task.id, task)
      onRetire?.(task)
    },
    expire (horizonMs) {
      for (const [id, task] of finished) {
        if (task.endedAt! > horizonMs) break
        if (task.listeners.size > 0) continue
        finished.delete(id)
        tasks.delete(id)
      }
    },
  }
}
