import type { TaskRequest } from '../../sdk/index.js'
import type { ErrorKind } from '../../sdk/api.js'
import type { Reservation } from './sessions.js'

/**
 * Tasks and their event logs (spec api-and-core.md §2.2, §2.4). Each frame is serialized
 * exactly once, as the SSE bytes every subscriber gets: `id: <seq>\nevent: <name>\ndata: <json>\n\n`.
 * A token frame is built by concatenation, so a token costs one string and nothing else.
 */
export type TaskState = 'queued' | 'running' | 'completed' | 'failed' | 'canceled' | 'dropped' | 'expired'

export const frame = (seq: number, event: string, data: unknown): string =>
  `id: ${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`

export const tokenFrame = (seq: number, t: string, i: number): string =>
  'id: ' + seq + '\nevent: token\ndata: {"t":' + JSON.stringify(t) + ',"i":' + i + '}\n\n'

/**
 * The per-task log: `started` (seq 0) is always kept; the rest is bounded to `max` frames,
 * dropping the oldest half when full (amortized O(1)). A reader that asks for trimmed frames
 * gets the oldest ones still held; the `id:` lines show it the gap.
 */
export class EventLog {
  #head = ''
  #tail: string[] = []
  #tailBase = 1
  #next = 0
  #ended = false
  readonly #max: number

  constructor (max: number) { this.#max = Math.max(2, max) }

  get next (): number { return this.#next }
  get ended (): boolean { return this.#ended }

  /** Appends the frame built for the next seq; no-op after the terminal frame. */
  append (build: (seq: number) => string, terminal = false): boolean {
    if (this.#ended) return false
    const seq = this.#next++
    const f = build(seq)
    if (seq === 0) this.#head = f
    else {
      this.#tail.push(f)
      if (this.#tail.length > this.#max - 1) {
        const drop = this.#tail.length >> 1
        this.#tail = this.#tail.slice(drop)
        this.#tailBase += drop
      }
    }
    if (terminal) this.#ended = true
    return true
  }

  /** Frames from `seq` to the end, one per element. */
  from (seq: number): string[] {
    const out: string[] = []
    if (seq <= 0 && this.#next > 0) out.push(this.#head)
    const start = Math.max(seq, this.#tailBase) - this.#tailBase
    for (let i = start; i < this.#tail.length; i++) out.push(this.#tail[i]!)
    return out
  }

  /** Everything from `seq` as one string (what one buffered write sends). */
  read (seq: number): string {
    if (seq >= this.#next) return ''
    if (seq > 0 && seq >= this.#tailBase && seq === this.#next - 1) return this.#tail[seq - this.#tailBase]!
    return this.from(seq).join('')
  }
}

export interface AdmissionBody { task_id: string, queue_position: number, predicted_start_ms: number, backoff_ms: number }

/** Anything the log can wake: an SSE subscriber. */
export interface Listener { notify (): void, finish (): void }

export interface Task {
  readonly id: string
  readonly req: TaskRequest
  /** Canonical JSON of the validated body, for duplicate detection (§6 D11). */
  readonly canonical: string
  /** Changes only while queued, when a draining pool's queue is re-placed (replace.ts). */
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
  controller?: AbortController
  /** A slot lease is held from dispatch until the terminal frame (or the stream unwinds). */
  leaseHeld: boolean
  /** Failover: the session's affine pool was not used; the first metrics frame says so (§4.3.4). */
  kvMigrated: boolean
  /** The error code a watchdog aborted the task with, if it did. */
  abortedWith?: ErrorKind
  /** Id of the task's `trace` artifact once it is stored. */
  traceId?: string
}

export const isTerminal = (s: TaskState): boolean => s !== 'queued' && s !== 'running'

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
