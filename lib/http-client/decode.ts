/**
 * Incremental stream decoders (spec adapters §1.6, ORCH-3611): push body chunks in, get
 * SSE events or NDJSON values out through a callback. One TextDecoder in streaming mode
 * keeps UTF-8 characters whole across chunk boundaries; only the unfinished tail of a line
 * is carried over, so no event copies the whole buffer. Lines end at `\n`, `\r\n` or `\r`.
 */

import { DecodeError } from './errors.js'

/** Longest line accepted (spec: > 1 MiB → ADAPTER error). */
export const MAX_LINE_BYTES = 1024 * 1024

export interface DecoderOptions { maxLineBytes?: number }

const LF = 10
// a UTF-16 code unit is at most 3 UTF-8 bytes: below this many units a line cannot be too long
const MAX_BYTES_PER_UNIT = 3

abstract class LineDecoder {
  private readonly text = new TextDecoder('utf-8')
  private carry = ''
  private skipLF = false
  private readonly maxLineBytes: number

  constructor (o: DecoderOptions = {}) {
    this.maxLineBytes = o.maxLineBytes ?? MAX_LINE_BYTES
  }

  protected abstract line (line: string): void
  protected abstract finish (): void

  push (chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.scan(this.text.decode(chunk, { stream: true }))
  }

  /** The body ended: a last line without a line end still counts, then pending state is flushed. */
  end (): void {
    const tail = this.text.decode()
    if (tail.length > 0) this.scan(tail)
    if (this.carry.length > 0) {
      const last = this.carry
      this.carry = ''
      this.line(last)
    }
    this.finish()
  }

  private scan (str: string): void {
    let pos = 0
    if (this.skipLF) {
      this.skipLF = false
      if (str.charCodeAt(0) === LF) pos = 1
    }
    const n = str.length
    let cr = str.indexOf('\r', pos)
    while (pos < n) {
      const lf = str.indexOf('\n', pos)
      if (cr !== -1 && cr < pos) cr = str.indexOf('\r', pos)
      let end: number
      let next: number
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr
        if (cr + 1 < n) next = str.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1
        else { next = n; this.skipLF = true }
      } else if (lf !== -1) {
        end = lf
        next = lf + 1
      } else break
      let line = str.slice(pos, end)
      if (this.carry.length > 0) { line = this.carry + line; this.carry = '' }
      this.check(line)
      this.line(line)
      pos = next
    }
    if (pos < n) {
      this.carry = pos === 0 && this.carry.length === 0 ? str : this.carry + str.slice(pos)
      this.check(this.carry)
    }
  }

  private check (text: string): void {
    if (text.length * MAX_BYTES_PER_UNIT <= this.maxLineBytes) return
    if (Buffer.byteLength(text) > this.maxLineBytes) {
      this.carry = ''
      throw new DecodeError(`the engine sent a line longer than ${this.maxLineBytes} bytes`)
    }
  }
}

/**
 * Server-sent events: joins multi-line `data:`, ignores comments, `id:` and `retry:`,
 * keeps `event:` names, accepts `data:` with or without the space, and treats llama.cpp's
 * non-standard `error: {…}` field as an event named `error`. `[DONE]` arrives as data.
 */
export class SseDecoder extends LineDecoder {
  private data = ''
  private hasData = false
  private event = ''
  private readonly onEvent: (data: string, event: string) => void

  constructor (onEvent: (data: string, event: string) => void, o?: DecoderOptions) {
    super(o)
    this.onEvent = onEvent
  }

  protected line (line: string): void {
    if (line.length === 0) { this.dispatch(); return }
    // fast path for the common `data: {...}` line
    if (line.startsWith('data:')) { this.append(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5)); return }
    if (line.charCodeAt(0) === 58) return // `:` comment / keep-alive
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1)
    if (field === 'event') this.event = value
    else if (field === 'error') { this.event = 'error'; this.append(value) } else if (field === 'data') this.append(value)
    // `id`, `retry` and unknown fields are ignored
  }

  private append (value: string): void {
    this.data = this.hasData ? `${this.data}\n${value}` : value
    this.hasData = true
  }

  private dispatch (): void {
    if (this.hasData) {
      const data = this.data
      const event = this.event === '' ? 'message' : this.event
      this.data = ''
      this.hasData = false
      this.event = ''
      this.onEvent(data, event)
    } else this.event = ''
  }

  protected finish (): void { this.dispatch() }
}

/** Newline-delimited JSON: one value per non-blank line; a line that is not JSON throws DecodeError. */
export class NdjsonDecoder extends LineDecoder {
  private readonly onValue: (value: unknown) => void

  constructor (onValue: (value: unknown) => void, o?: DecoderOptions) {
    super(o)
    this.onValue = onValue
  }

  protected line (line: string): void {
    if (line.trim().length === 0) return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw new DecodeError(`the engine sent a line that is not JSON: ${line.slice(0, 80)}`)
    }
    this.onValue(value)
  }

  protected finish (): void {}
}

export interface SseEvent { event: string, data: string }

/** Convenience: the SSE events of a body, one at a time. */
export async function * sseEvents (body: AsyncIterable<Uint8Array>, o?: DecoderOptions): AsyncGenerator<SseEvent> {
  const pending: SseEvent[] = []
  const decoder = new SseDecoder((data, event) => { pending.push({ event, data }) }, o)
  for await (const chunk of body) {
    decoder.push(chunk)
    yield * pending.splice(0)
  }
  decoder.end()
  yield * pending
}

/** Convenience: the values of an NDJSON body, one at a time. */
export async function * ndjsonValues (body: AsyncIterable<Uint8Array>, o?: DecoderOptions): AsyncGenerator<unknown> {
  const pending: unknown[] = []
  const decoder = new NdjsonDecoder((v) => { pending.push(v) }, o)
  for await (const chunk of body) {
    decoder.push(chunk)
    yield * pending.splice(0)
  }
  decoder.end()
  yield * pending
}
