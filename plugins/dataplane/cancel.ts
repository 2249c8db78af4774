import type { ErrorKind } from '../../sdk/api.js'
import { replaceFromDraining } from './replace.js'
import { poolConfig, retire, updateDepth, type Core } from './core.js'
import { logIds, pump, releaseLease, settle } from './dispatch.js'
import { emitEnd, emitError, type Task } from './tasks.js'

/**
 * Ends tasks from outside their stream: client cancel (ORCH-3026, §2.3), the watchdog and
 * deadlines (§4.2), drop-lru victims (§4.1.4), and the periodic sweep that also expires
 * sessions and finished tasks. Every path appends the terminal frame synchronously, so no
 * token or metrics frame can follow it in any transcript.
 */
export type CancelReason = 'client' | 'watchdog' | 'deadline' | 'disconnect'

function canceledLabels (task: Task, reason: CancelReason): Record<'engine' | 'engine_version' | 'pool_id' | 'replica_id' | 'reason', string> {
  return { engine: task.req.engine, engine_version: task.engineVersion, pool_id: task.poolId, replica_id: task.replicaId, reason }
}

/** Client cancel: true when it changed something (unknown and finished tasks are a no-op). */
export function cancelTask (core: Core, id: string, reason: CancelReason = 'client'): boolean {
  const task = core.tasks.get(id)
  if (!task || task.canceled || task.log.ended) return false
  task.canceled = true
  const wasQueued = task.state === 'queued'
  task.state = 'canceled'
  if (wasQueued) {
    core.queues.get(task.poolId)!.cancel(id)
    updateDepth(core, task.poolId)
    core.sessions.release(task.req.session_id, task.reservation)
    emitEnd(task, { tokens_out: 0, decode_time_ms: 0, decode_ms: 0, canceled: true })
    retire(core, task)
  } else {
    const now = core.clock.nowMs()
    task.decodeMs = task.firstTokenAt !== undefined ? now - task.firstTokenAt : 0
    emitEnd(task, { tokens_out: task.tokensOut, decode_time_ms: task.decodeMs, decode_ms: task.decodeMs, canceled: true })
    core.streams.get(task.id)?.terminal(now, task.tokensIn, task.firstTokenAt !== undefined ? task.decodeMs : undefined)
    settle(core, task)
    retire(core, task)
    abortRunning(core, task)
  }
  core.metrics.tasks_canceled_total.inc(canceledLabels(task, reason))
  core.narrator.narrate({ actor: 'orchestratord', action: 'cancel', target: task.id, canceled: true, reason, ...logIds(core, task) },
    `cancels ${wasQueued ? 'queued' : 'running'} task ${task.id} (${reason})`)
  return true
}

/** The AbortSignal reaches the adapter and the lease is released now, even if the adapter hangs. */
function abortRunning (core: Core, task: Task): void {
  task.controller?.abort()
  void core.host.cancel(task.poolId, task.id).catch(() => {})
  releaseLease(core, task)
}

/** Watchdog and deadline aborts of a running or queued task end with an `error` frame. */
function abortWith (core: Core, task: Task, code: ErrorKind, message: string, reason: CancelReason): void {
  const wasQueued = task.state === 'queued'
  task.abortedWith = code
  task.state = wasQueued ? 'expired' : 'failed'
  emitError(task, code, message)
  if (wasQueued) {
    core.queues.get(task.poolId)!.cancel(task.id)
    updateDepth(core, task.poolId)
    core.sessions.release(task.req.session_id, task.reservation)
  } else {
    core.streams.get(task.id)?.terminal(core.clock.nowMs(), task.tokensIn, undefined)
    settle(core, task)
    abortRunning(core, task)
    core.metrics.tasks_canceled_total.inc(canceledLabels(task, reason))
  }
  retire(core, task)
  core.narrator.narrate({ actor: 'orchestratord', action: 'error', target: task.id, code, ...logIds(core, task) }, `task ${task.id} aborts with ${code}`, 'warn')
}

/** A drop-lru victim (§4.1.4): terminal `error QUEUE_FULL_DROP_LRU`, its reservation released. */
export function dropVictim (core: Core, id: string): void {
  const task = core.tasks.get(id)
  if (!task || task.state !== 'queued') return
  task.state = 'dropped'
  emitError(task, 'QUEUE_FULL_DROP_LRU', 'the queue was full and this task was the oldest; resubmit it with a new task_id')
  core.sessions.release(task.req.session_id, task.reservation)
  retire(core, task)
  core.metrics.tasks_rejected_total.inc({ engine: task.req.engine, reason: 'QUEUE_FULL_DROP_LRU' })
  core.narrator.narrate({ actor: 'orchestratord', action: 'reject', target: task.id, code: 'QUEUE_FULL_DROP_LRU', ...logIds(core, task) },
    `drops queued task ${task.id} to admit a newer one`, 'warn')
}

/**
 * The one periodic sweep (no timer per task or session): deadlines of queued and running
 * tasks, wall and idle timeouts of running ones, expired sessions, finished tasks past
 * retention, and a dispatch kick for pools that became Ready since the last event.
 */
export function sweep (core: Core): void {
  const now = core.clock.nowMs()
  for (const task of [...core.active]) {
    if (now >= task.deadlineAt) {
      abortWith(core, task, 'DEADLINE_UNMET', `the task's deadline_ms (${task.req.deadline_ms}) passed while it was ${task.state}`, 'deadline')
      continue
    }
    if (task.state !== 'running') continue
    const t = poolConfig(core, task.poolId).timeouts
    if (typeof t?.wall_ms === 'number' && now - task.startedAt! >= t.wall_ms) {
      abortWith(core, task, 'DECODE_TIMEOUT', `the task ran longer than the pool's wall timeout (${t.wall_ms} ms)`, 'watchdog')
    } else if (typeof t?.idle_ms === 'number' && now - (task.lastTokenAt ?? task.startedAt!) >= t.idle_ms) {
      abortWith(core, task, 'DECODE_TIMEOUT', `no token for ${t.idle_ms} ms (the pool's idle timeout)`, 'watchdog')
    }
  }
  // the drain's deadline is the pool's: its queue waits while the drain lasts
  replaceFromDraining(core, (task, code, message) => abortWith(core, task, code, message, 'deadline'))
  core.sessions.sweep()
  core.throttle?.prune(now)
  const horizon = now - core.config.tasks.retention_ms
  for (const [id, task] of core.finished) {
    if (task.endedAt! > horizon) break
    if (task.listeners.size > 0) continue
    core.finished.delete(id)
    core.tasks.delete(id)
  }
  for (const id of core.queues.keys()) pump(core, id)
}
