import type { AdapterHost } from '../../sdk/adapter.js'
import type { Clock } from '../../lib/clock.js'
import type { SessionStore } from '../sessions/index.js'
import type { PoolStats } from './predict.js'
import type { Scheduler } from './scheduler.js'
import { emitEnd, emitError, type Task, type TaskState, type TaskStore } from './tasks.js'
import type { Outcome, Telemetry } from './telemetry.js'

/**
 * The one terminal transition of a task (spec architecture.md §3). Every path that ends a
 * task — the engine's end or error, a client cancel, the sweep's deadlines and watchdog, a
 * drop-lru victim — calls `conclude`, which appends the terminal frame synchronously (so no
 * token or metrics frame can follow it), then takes the task out of its queue or stops its
 * stream, settles its session, closes its stream metrics, retires it, counts and narrates it,
 * and last gives its slot back to the scheduler.
 */
export interface TaskLifecycle {
  /** False when the task had already ended (the first conclusion wins). */
  conclude (task: Task, outcome: Outcome): boolean
  /**
   * The one way back: a task dispatched to an engine that could not be reached, before the
   * engine started it, waits again at the head of its queue (its deadline still runs) and its
   * pool is held for `holdMs` (issue 10 #2). Not terminal: no frame, the session keeps its
   * reservation.
   */
  requeue (task: Task, holdMs: number, cause: string): void
}

export interface LifecycleDeps {
  clock: Clock
  scheduler: Pick<Scheduler, 'remove' | 'release' | 'requeue'>
  tasks: Pick<TaskStore, 'retire'>
  sessions: Pick<SessionStore, 'release' | 'settle'>
  host: Pick<AdapterHost, 'cancel'>
  stats: ReadonlyMap<string, PoolStats>
  telemetry: Pick<Telemetry, 'concluded' | 'requeued'>
  costPerToken: number
}

const STATE: Record<Outcome['kind'], (wasQueued: boolean) => TaskState> = {
  completed: () => 'completed',
  failed: () => 'failed',
  aborted: (q) => q ? 'expired' : 'failed',
  canceled: () => 'canceled',
  dropped: () => 'dropped',
}

export function createLifecycle (deps: LifecycleDeps): TaskLifecycle {
  const { clock, scheduler, sessions } = deps

  const terminalFrame = (task: Task, outcome: Outcome, now: number): void => {
    switch (outcome.kind) {
      case 'completed':
        task.decodeMs = Math.max(0, Math.round(outcome.decodeMs))
        if (outcome.tokensIn !== undefined) task.tokensIn = outcome.tokensIn
        emitEnd(task, {
          tokens_out: task.tokensOut,
          decode_time_ms: task.decodeMs,
          decode_ms: task.decodeMs,
          ...(outcome.embeddings !== undefined ? { embeddings: outcome.embeddings } : {}),
        })
        return
      case 'canceled':
        task.decodeMs = task.firstTokenAt !== undefined ? now - task.firstTokenAt : 0
        emitEnd(task, { tokens_out: task.tokensOut, decode_time_ms: task.decodeMs, decode_ms: task.decodeMs, canceled: true })
        return
      case 'dropped':
        emitError(task, 'QUEUE_FULL_DROP_LRU', 'the queue was full and this task was the oldest; resubmit it with a new task_id')
        return
      default:
        emitError(task, outcome.code, outcome.message)
    }
  }

  /** A running task ended from outside its stream: the AbortSignal reaches the adapter now, even if it hangs. */
  const stopStream = (task: Task): void => {
    task.controller?.abort()
    void deps.host.cancel(task.poolId, task.id).catch(() => {})
  }

  return {
    conclude (task, outcome) {
      if (task.log.ended) return false
      const now = clock.nowMs()
      const wasQueued = task.state === 'queued'
      task.state = STATE[outcome.kind](wasQueued)
      if (outcome.kind === 'canceled') task.canceled = true
      if (outcome.kind === 'aborted') task.abortedWith = outcome.code
      terminalFrame(task, outcome, now)
      if (wasQueued) {
        // a drop-lru victim has already left its queue
        if (outcome.kind !== 'dropped') scheduler.remove(task)
        sessions.release(task.req.session_id, task.reservation)
      } else {
        if (outcome.kind === 'canceled' || outcome.kind === 'aborted') stopStream(task)
        // the decode time is observed unless the sweep cut the stream short
        task.stream?.terminal(now, task.tokensIn, outcome.kind !== 'aborted' && task.firstTokenAt !== undefined ? now - task.firstTokenAt : undefined)
        sessions.settle(task.req.session_id, task.reservation, { tokens: task.tokensOut, time_ms: task.decodeMs, cost: task.tokensOut * deps.costPerToken })
      }
      if (outcome.kind === 'completed') {
        const stats = deps.stats.get(task.poolId)!
        stats.jobMs.observe(now - task.startedAt!)
        if (task.tokensOut > 1 && task.firstTokenAt !== undefined) stats.msPerToken.observe((now - task.firstTokenAt) / (task.tokensOut - 1))
      }
      deps.tasks.retire(task, now)
      deps.telemetry.concluded(task, outcome, wasQueued)
      scheduler.release(task)
      return true
    },
    requeue (task, holdMs, cause) {
      if (task.log.ended || task.state !== 'running') return
      task.state = 'queued'
      delete task.startedAt
      delete task.controller
      task.requeues++
      const now = clock.nowMs()
      scheduler.requeue(task, now + holdMs)
      deps.telemetry.requeued(task, holdMs, cause)
    },
  }
}
