import type { EventLog, Listener } from './event-log.js'

/**
 * The SSE writer (PERF:ORCH-3400, spec §4.6): one per subscriber, reading the task's shared
 * event log through a cursor, so a frame is serialized once whatever the number of readers.
 *
 * Modes:
 *   - `naive`: one `write()` per frame as it arrives (the baseline the benchmark compares to);
 *   - `buffered` (default): frames appended during one event-loop turn leave in one write;
 *   - `micro-batch`: frames are held up to `microBatchMs` (≤ 5 ms) and leave in one write.
 * Every mode respects backpressure: after `write()` returns false nothing more is written
 * until `drain`; the frames wait in the log, not in a second buffer.
 */
export type WriterMode = 'naive' | 'buffered' | 'micro-batch'

/** The part of a ServerResponse the writer needs (lets the benchmark use any Writable). */
export interface Sink {
  write (chunk: string): boolean
  end (): void
  once (event: 'drain', cb: () => void): unknown
  readonly writableEnded: boolean
  readonly destroyed: boolean
}

export interface WriterOptions { mode?: WriterMode, microBatchMs?: number, onFinish?: () => void }

export class SseWriter implements Listener {
  cursor: number
  lastWriteAt = Date.now()
  #scheduled = false
  #blocked = false
  #closed = false
  readonly #log: EventLog
  readonly #sink: Sink
  readonly #mode: WriterMode
  readonly #microBatchMs: number
  readonly #onFinish: (() => void) | undefined

  constructor (log: EventLog, sink: Sink, from: number, o: WriterOptions = {}) {
    this.#log = log
    this.#sink = sink
    this.cursor = from
    this.#mode = o.mode ?? 'buffered'
    this.#microBatchMs = o.microBatchMs ?? 0
    this.#onFinish = o.onFinish
  }

  get closed (): boolean { return this.#closed }

  /** New frames are in the log. */
  notify (): void {
    if (this.#closed || this.#scheduled) return
    if (this.#mode === 'naive') { this.flush(); return }
    this.#scheduled = true
    if (this.#mode === 'micro-batch' && this.#microBatchMs > 0) setTimeout(this.#run, this.#microBatchMs)
    else setImmediate(this.#run)
  }

  /** The log ended (or the server closes): write what is left, then end the response. */
  finish (): void { this.notify() }

  readonly #run = (): void => { this.#scheduled = false; this.flush() }

  flush (): void {
    if (this.#closed || this.#blocked) return
    const sink = this.#sink
    if (sink.destroyed || sink.writableEnded) { this.close(); return }
    let ok = true
    if (this.#mode === 'naive') {
      for (const f of this.#log.from(this.cursor)) { ok = sink.write(f); this.cursor++ }
      this.cursor = Math.max(this.cursor, this.#log.next)
    } else {
      const chunk = this.#log.read(this.cursor)
      this.cursor = this.#log.next
      if (chunk !== '') ok = sink.write(chunk)
    }
    this.lastWriteAt = Date.now()
    if (!ok) {
      this.#blocked = true
      sink.once('drain', () => { this.#blocked = false; this.flush() })
      return
    }
    if (this.#log.ended && this.cursor >= this.#log.next) { sink.end(); this.close() }
  }

  /** A comment line; skipped while the socket is backed up (a real frame is waiting anyway). */
  keepAlive (): void {
    if (this.#closed || this.#blocked || this.#sink.destroyed) return
    this.#sink.write(': keep-alive\n\n')
    this.lastWriteAt = Date.now()
  }

  /** Ends the response now, whatever is left (server shutdown). */
  end (): void {
    if (!this.#sink.writableEnded && !this.#sink.destroyed) this.#sink.end()
    this.close()
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#onFinish?.()
  }
}

/**
 * One interval for every open stream (not one timer each): a writer that has written nothing
 * for `intervalMs` gets `: keep-alive`. The interval runs only while streams are open.
 */
export class KeepAlive {
  readonly #writers = new Set<SseWriter>()
  #timer: NodeJS.Timeout | undefined
  readonly #intervalMs: number

  constructor (intervalMs: number) { this.#intervalMs = intervalMs }

  add (w: SseWriter): void {
    this.#writers.add(w)
    this.#timer ??= setInterval(this.#tick, Math.max(50, Math.floor(this.#intervalMs / 3))).unref()
  }

  delete (w: SseWriter): void {
    this.#writers.delete(w)
    if (this.#writers.size === 0 && this.#timer) { clearInterval(this.#timer); this.#timer = undefined }
  }

  get size (): number { return this.#writers.size }

  readonly #tick = (): void => {
    const due = Date.now() - this.#intervalMs
    for (const w of this.#writers) if (w.lastWriteAt <= due) w.keepAlive()
  }

  stop (): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.#writers.clear()
  }
}
