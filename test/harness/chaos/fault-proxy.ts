/**
 * A loopback HTTP fault proxy (spec adapters §6.5) between the orchestrator's adapter and a fake
 * engine. Each generation request gets one fault from `schedule` (the run draws it from its seeded
 * PRNG, so a run is reproducible); health, props and slots pass through unless `faultAll`, since a
 * proxy that failed probes would test the supervisor, not the stream path. SSE bodies are forwarded
 * frame by frame (`\n\n`), which lets a fault cut or corrupt the stream at a frame boundary.
 */
import { createServer, request as upstreamRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export type Fault =
  | { kind: 'pass' }
  /** Latency before the response head (with the jitter already drawn). */
  | { kind: 'latency', ms: number }
  /** The connection closes before any byte of a response (the adapter sees the peer go away). */
  | { kind: 'refuse' }
  /** The socket is destroyed after `frames` SSE frames of the body. */
  | { kind: 'reset', frames: number }
  /** A status burst: this request answers `status` in llama.cpp's error dialect. */
  | { kind: 'status', status: 429 | 500 | 503, retryAfterS?: number }
  /** After `frames` frames nothing more is written and the connection stays open (past the idle timeout). */
  | { kind: 'stall', frames: number }
  /** After `frames` frames a frame that is not JSON goes out, then the stream continues. */
  | { kind: 'malformed', frames: number }
  /** `ms` between frames (slow drip). */
  | { kind: 'drip', ms: number }

export type FaultKind = Fault['kind']
export const FAULT_KINDS: readonly FaultKind[] = ['pass', 'latency', 'refuse', 'reset', 'status', 'stall', 'malformed', 'drip']

export interface TimelineEvent { t_ms: number, proxy: string, seq: number, kind: FaultKind | 'restart' | 'upstream-error', path: string, detail?: unknown }

export interface ProxyOptions {
  /** The engine origin, `http://127.0.0.1:port`. */
  upstream: string
  /** A name in the timeline (one proxy per pool). */
  name: string
  /** The fault of generation request `seq` (0-based). */
  schedule: (seq: number, req: { method: string, path: string }) => Fault
  /** Fault health/props/slots too (default false: they pass through). */
  faultAll?: boolean
  /** Time origin of the timeline (the run's start). */
  t0?: number
}

/** Generation endpoints of the engines the fixtures fake. */
const GENERATION = /^\/(completion|completions|v1\/completions|v1\/chat\/completions|generate_stream|generate)$/

const llamaError = (status: number, message: string): string =>
  JSON.stringify({ error: { code: status, message, type: status === 503 ? 'unavailable_error' : 'server_error' } })

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class FaultProxy {
  url = ''
  readonly counts: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]))
  readonly timeline: TimelineEvent[] = []
  #seq = 0
  /** While set, every request answers 503 (an engine restarting, spec §6.5 "engine restart"). */
  #restartingUntil = 0
  readonly #sockets = new Set<Socket>()
  readonly #server: Server
  readonly #o: ProxyOptions
  readonly #t0: number

  constructor (o: ProxyOptions) {
    this.#o = o
    this.#t0 = o.t0 ?? Date.now()
    this.#server = createServer((req, res) => { this.#handle(req, res).catch(() => { res.destroy() }) })
    this.#server.on('connection', (s) => { this.#sockets.add(s); s.on('close', () => this.#sockets.delete(s)) })
  }

  static async start (o: ProxyOptions): Promise<FaultProxy> {
    const p = new FaultProxy(o)
    await new Promise<void>((resolve) => p.#server.listen(0, '127.0.0.1', resolve))
    p.url = `http://127.0.0.1:${(p.#server.address() as AddressInfo).port}`
    return p
  }

  get port (): number { return Number(new URL(this.url).port) }

  get name (): string { return this.#o.name }

  /** Generation requests faulted so far (pass-through included). */
  get generations (): number { return this.#seq }

  /** Engine restart: every open socket closed now, then 503 to everything for `ms`. */
  restart (ms: number): void {
    this.#restartingUntil = Date.now() + ms
    this.#event(-1, 'restart', '*', { ms, sockets: this.#sockets.size })
    for (const s of this.#sockets) s.destroy()
  }

  async close (): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #event (seq: number, kind: TimelineEvent['kind'], path: string, detail?: unknown): void {
    this.timeline.push({ t_ms: Date.now() - this.#t0, proxy: this.#o.name, seq, kind, path, ...(detail === undefined ? {} : { detail }) })
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!
    const method = req.method ?? 'GET'
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (Date.now() < this.#restartingUntil) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(llamaError(503, 'Loading model'))
      return
    }
    const generation = method === 'POST' && GENERATION.test(path)
    let fault: Fault = { kind: 'pass' }
    let seq = -1
    if (generation || this.#o.faultAll) {
      seq = this.#seq++
      fault = this.#o.schedule(seq, { method, path })
      this.counts[fault.kind] = (this.counts[fault.kind] ?? 0) + 1
      if (fault.kind !== 'pass') this.#event(seq, fault.kind, path, fault)
    }
    if (fault.kind === 'refuse') { req.socket.destroy(); return }
    if (fault.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (fault.retryAfterS !== undefined) headers['retry-after'] = String(fault.retryAfterS)
      res.writeHead(fault.status, headers).end(llamaError(fault.status, `chaos burst ${fault.status}`))
      return
    }
    if (fault.kind === 'latency') await delay(fault.ms)
    await this.#forward(req, res, method, Buffer.concat(chunks), fault, seq, path)
  }

  /** Sends the request on and relays the answer, applying the fault frame by frame. */
  #forward (req: IncomingMessage, res: ServerResponse, method: string, body: Buffer, fault: Fault, seq: number, path: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const headers = { ...req.headers }
      delete headers.host
      const up = upstreamRequest(this.#o.upstream + (req.url ?? '/'), { method, headers }, (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers)
        // the adapter or a fault closed one side: the relay ends there, and so does the other side
        this.#relay(ures, res, fault).catch(() => { res.destroy() }).finally(resolve)
      })
      // the adapter gave up (timeout, cancel): the engine's request goes too, as a real engine's would
      res.on('close', () => { if (!res.writableFinished) up.destroy() })
      up.on('error', (err) => {
        if (!res.headersSent && !res.destroyed) {
          this.#event(seq, 'upstream-error', path, String(err))
          res.writeHead(502, { 'content-type': 'application/json' }).end(llamaError(502, 'proxy upstream error'))
        } else res.destroy()
        resolve()
      })
      up.end(body)
    })
  }

  async #relay (ures: IncomingMessage, res: ServerResponse, fault: Fault): Promise<void> {
    let buf = ''
    let frames = 0
    for await (const chunk of ures) {
      buf += String(chunk)
      for (let at = buf.indexOf('\n\n'); at >= 0; at = buf.indexOf('\n\n')) {
        const frame = buf.slice(0, at + 2)
        buf = buf.slice(at + 2)
        if (res.destroyed) { ures.destroy(); return }
        if (fault.kind === 'reset' && frames === fault.frames) {
          // what went before reaches the adapter, then the connection drops mid-stream
          await new Promise<void>((resolve) => res.write('', () => resolve()))
          res.socket?.destroy()
          ures.destroy()
          return
        }
        if (fault.kind === 'stall' && frames === fault.frames) {
          // nothing more, connection held: the adapter's idle timer must fire and close it
          ures.destroy()
          return
        }
        if (fault.kind === 'malformed' && frames === fault.frames) res.write('data: {"content": "chaos-unterminated\n\n')
        if (fault.kind === 'drip' && frames > 0) await delay(fault.ms)
        res.write(frame)
        frames++
      }
    }
    if (!res.destroyed) res.end(buf)
  }
}
