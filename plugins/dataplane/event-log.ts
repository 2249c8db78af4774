/**
 * A task's event log (spec api-and-core.md §2.2, §2.4). Each frame is serialized exactly once,
 * as the SSE bytes every subscriber gets: `id: <seq>\nevent: <name>\ndata: <json>\n\n`.
 * A token frame is built by concatenation, so a token costs one string and nothing else.
 */
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

/** Anything the log can wake: an SSE subscriber. */
export interface Listener { notify (): void, finish (): void }
