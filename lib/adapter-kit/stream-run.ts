import type { EndData, StartedData, SubmitOpts, TaskRequest, TokenEvent } from '../../sdk/index.js'
import { determinismOf, isKnownProfile, type Determinism } from '../../sdk/determinism.js'
import { workerError } from '../../sdk/worker-errors.js'
import { SseDecoder } from '../http-client/decode.js'
import { DecodeError, UpstreamError } from '../http-client/errors.js'
import type { HttpClient } from '../http-client/client.js'
import { Watchdog, type WatchdogReason } from './watchdog.js'
import { ORC_ERR_ADAPTER_CANCELED } from './errors.js'
import type { AdapterBinding } from '../../sdk/index.js'
import type { EngineProtocol, FrameSink, GenerationStream, OneShotRequest, StreamTimeouts } from './protocol.js'

/** The largest one-shot answer read (an embedding of many long inputs runs to megabytes of JSON). */
const ONE_SHOT_MAX_BYTES = 64 * 1024 * 1024

export interface Running { controller: AbortController, canceled: boolean }

/** What a run shares with its adapter. */
export interface RunContext {
  protocol: EngineProtocol
  binding: AdapterBinding
  client: HttpClient
  timeouts: StreamTimeouts
  now: () => number
  engineVersion: (o?: { signal?: AbortSignal }) => Promise<string>
  running: Map<string, Running>
  /** Sees every terminal error on its way out (credential failures flip health). */
  onError: (e: TokenEvent) => void
}

const CANCELED = new ORC_ERR_ADAPTER_CANCELED()
const DONE: Promise<IteratorResult<TokenEvent>> = Promise.resolve({ value: undefined, done: true })

const WATCHDOG_TEXT: Record<WatchdogReason, (engine: string, t: StreamTimeouts) => string> = {
  first_token_timeout: (e, t) => `no first token from ${e} within ${t.firstTokenMs} ms`,
  idle_timeout: (e, t) => `no token from ${e} for ${t.idleMs} ms`,
  deadline: (e) => `the task deadline passed while waiting on ${e}`,
}

/**
 * One task's stream (spec adapters §1.3), as a hand-written async iterator: a token already
 * decoded costs one resolved promise, where an async generator costs several ticks. Lazy:
 * nothing happens until the first `next()`. `return()` (the consumer leaving) closes the
 * upstream request.
 */
export class StreamRun implements AsyncIterableIterator<TokenEvent> {
  private readonly ctx: RunContext
  private readonly req: TaskRequest
  private readonly o: SubmitOpts
  private readonly run: Running = { controller: new AbortController(), canceled: false }
  private readonly queue: TokenEvent[] = []
  private qi = 0
  private tokens = 0
  /** Token events handed to the consumer: a canceled end counts these, not tokens still queued (D15). */
  private delivered = 0
  private firstTokenAt = 0
  private terminal: TokenEvent | undefined
  private done = false
  private begun = false
  private bodyDone = false
  private dog: Watchdog | undefined
  private it: AsyncIterator<unknown> | undefined
  private decoder: SseDecoder | undefined
  private readonly onAbort = (): void => { this.run.canceled = true; this.run.controller.abort(CANCELED) }

  constructor (ctx: RunContext, req: TaskRequest, o: SubmitOpts) {
    this.ctx = ctx
    this.req = req
    this.o = o
  }

  [Symbol.asyncIterator] (): this { return this }

  next (): Promise<IteratorResult<TokenEvent>> {
    if (this.qi < this.queue.length && !this.run.canceled) return Promise.resolve(this.take())
    if (this.done) return DONE
    return this.advance()
  }

  /** The next queued event; a plain value, so `advance` never resolves with a promise (two extra ticks). */
  private take (): IteratorResult<TokenEvent> {
    const value = this.queue[this.qi++]!
    if (value.kind === 'token') this.delivered++
    if (this.qi === this.queue.length) { this.queue.length = 0; this.qi = 0; this.dog?.resume() }
    return { value, done: false }
  }

  async return (): Promise<IteratorResult<TokenEvent>> {
    if (!this.done) this.finish(undefined, false)
    return { value: undefined, done: true }
  }

  private sink: FrameSink = {
    token: (t) => {
      if (t.length === 0 || this.terminal) return
      if (this.tokens === 0) this.firstTokenAt = this.ctx.now()
      this.queue.push({ kind: 'token', data: { t, i: this.tokens++ } })
    },
    metrics: (data) => { if (!this.terminal) this.queue.push({ kind: 'metrics', data }) },
    end: (info) => {
      if (this.terminal) return
      const data: EndData = { tokens_out: info.tokens_out ?? this.tokens, decode_time_ms: this.elapsed(), stop_reason: info.stop_reason }
      if (info.tokens_in !== undefined) data.tokens_in = info.tokens_in
      if (info.embeddings !== undefined) data.embeddings = info.embeddings
      this.terminal = { kind: 'end', data }
    },
    fail: (condition, message, status) => {
      if (!this.terminal) this.terminal = { kind: 'error', data: workerError(condition, this.ctx.protocol.engine, message, { upstream_status: status }) }
    },
  }

  private elapsed (): number { return this.tokens === 0 ? 0 : this.ctx.now() - this.firstTokenAt }

  private async advance (): Promise<IteratorResult<TokenEvent>> {
    try {
      if (!this.begun) return await this.begin()
      for (;;) {
        if (this.run.canceled) return this.finish(this.canceledEnd(), false)
        if (this.terminal) return this.finish(this.terminal, !this.bodyDone)
        const r = await this.it!.next()
        if (r.done) {
          this.bodyDone = true
          this.decoder!.end()
          if (!this.terminal) (this.stream!.eof ?? this.resetAtEof)(this.sink)
        } else this.decoder!.push(r.value as Uint8Array)
        if (this.queue.length > 0) {
          this.dog!.token()
          if (!this.run.canceled) return this.take()
        }
      }
    } catch (e) {
      return this.finish(this.run.canceled ? this.canceledEnd() : this.errorFor(e), false)
    }
  }

  private stream: GenerationStream | undefined

  private async begin (): Promise<IteratorResult<TokenEvent>> {
    this.begun = true
    const { ctx, req, o, run } = this
    const engine = ctx.protocol.engine
    if (o.signal.aborted) return this.finish(this.canceledEnd(), false)
    o.signal.addEventListener('abort', this.onAbort, { once: true })
    ctx.running.set(req.task_id, run)
    const wallAt = Math.min(o.deadlineAt, ctx.timeouts.wallMs ? ctx.now() + ctx.timeouts.wallMs : Infinity)
    this.dog = new Watchdog({
      now: ctx.now,
      firstTokenMs: ctx.timeouts.firstTokenMs,
      idleMs: ctx.timeouts.idleMs,
      wallAt,
      onFire: () => run.controller.abort(CANCELED),
    })
    const d = determinismOf(req, ctx.binding.pool)
    if (!isKnownProfile(d.profile)) {
      throw new UpstreamError('unsupported_request', `sampler profile "${d.profile}" is unknown to the ${engine} adapter (known: v1)`)
    }
    const opened = await ctx.protocol.open(req, d)
    if ('result' in opened) return await this.oneShot(opened, d, wallAt)
    const stream = this.stream = opened
    const versionP = ctx.engineVersion({ signal: run.controller.signal }).catch(() => 'unknown')
    const res = await ctx.client.stream(`${ctx.protocol.baseUrl}${stream.path}`, {
      body: stream.body,
      headers: { accept: 'text/event-stream', ...ctx.protocol.headers },
      signal: run.controller.signal,
      deadlineAt: wallAt,
      context: { engine, task_id: req.task_id, pool_id: o.poolId, replica_id: o.replicaId },
    })
    this.it = res.body[Symbol.asyncIterator]()
    const type = String(res.headers['content-type'] ?? '')
    if (!type.includes('text/event-stream')) {
      throw new UpstreamError('malformed_frame', `${engine} answered ${res.status} with content-type "${type}", not an event stream`)
    }
    const version = await versionP
    if (run.canceled) return this.finish(this.canceledEnd(), false)
    this.decoder = new SseDecoder((data, event) => { if (!this.terminal) stream.frame(data, event, this.sink) })
    return { value: { kind: 'started', data: startedData(engine, version, d, o) }, done: false }
  }

  /** A JSON request: `started`, then (on the next pull) the end its answer makes. */
  private async oneShot (r: OneShotRequest, d: Determinism, wallAt: number): Promise<IteratorResult<TokenEvent>> {
    const { ctx, req, o, run } = this
    const engine = ctx.protocol.engine
    const versionP = ctx.engineVersion({ signal: run.controller.signal }).catch(() => 'unknown')
    const answer = await ctx.client.json(`${ctx.protocol.baseUrl}${r.path}`, {
      method: 'POST',
      body: r.body,
      headers: ctx.protocol.headers ?? {},
      signal: run.controller.signal,
      timeoutMs: Math.max(1, wallAt - ctx.now()),
      context: { engine, task_id: req.task_id, pool_id: o.poolId, replica_id: o.replicaId },
      maxBodyBytes: ONE_SHOT_MAX_BYTES,
    })
    const version = await versionP
    if (run.canceled) return this.finish(this.canceledEnd(), false)
    this.bodyDone = true
    r.result(answer, this.sink)
    if (!this.terminal) this.sink.fail('malformed_frame', `${engine} answered ${r.path} without a result`)
    return { value: { kind: 'started', data: startedData(engine, version, d, o) }, done: false }
  }

  private readonly resetAtEof = (sink: FrameSink): void => {
    sink.fail('reset_after_headers', `${this.ctx.protocol.engine} closed the stream without a final frame`)
  }

  private canceledEnd (): TokenEvent {
    return { kind: 'end', data: { tokens_out: this.delivered, decode_time_ms: this.elapsed(), stop_reason: 'canceled' } }
  }

  /** The last event (or none when the consumer left); `drain` keeps reading the rest of a finished body. */
  private finish (event: TokenEvent | undefined, drain: boolean): IteratorResult<TokenEvent> {
    this.done = true
    this.queue.length = 0
    this.dog?.stop()
    this.o.signal.removeEventListener('abort', this.onAbort)
    this.ctx.running.delete(this.req.task_id)
    if (drain && event?.kind === 'end' && this.it) drainRest(this.it)
    else this.run.controller.abort(CANCELED)
    if (event?.kind === 'error') this.ctx.onError(event)
    return event ? { value: event, done: false } : { value: undefined, done: true }
  }

  private errorFor (e: unknown): TokenEvent {
    const engine = this.ctx.protocol.engine
    const fired = this.dog?.fired
    if (fired) return { kind: 'error', data: workerError(fired, engine, WATCHDOG_TEXT[fired](engine, this.ctx.timeouts)) }
    if (e instanceof UpstreamError) return { kind: 'error', data: e.toWorkerError(engine) }
    if (e instanceof DecodeError || e instanceof SyntaxError) {
      return { kind: 'error', data: workerError('malformed_frame', engine, `${engine} sent a frame that cannot be decoded: ${e.message}`) }
    }
    const err = e as { code?: string, message?: string, name?: string }
    if (typeof err?.code === 'string' && (err.code.startsWith('UND_ERR') || err.code.startsWith('E'))) {
      return { kind: 'error', data: workerError('reset_after_headers', engine, `${engine} dropped the stream: ${err.code}`) }
    }
    if (err?.message === 'terminated' || err?.name === 'AbortError') {
      return { kind: 'error', data: workerError('reset_after_headers', engine, `${engine} dropped the stream`) }
    }
    return { kind: 'error', data: workerError('adapter_exception', engine, `${engine} adapter failure: ${err?.message ?? String(e)}`) }
  }
}

function startedData (engine: string, version: string, d: Determinism, o: SubmitOpts): StartedData {
  const data: StartedData = { engine, engine_version: version, seed: d.seed, pool_id: o.poolId, replica_id: o.replicaId }
  if (d.sampler_profile_version !== undefined) data.sampler_profile_version = d.sampler_profile_version
  if (d.model_digest !== undefined) data.model_digest = d.model_digest
  return data
}

/** After the terminal frame: read what is left so the connection can be reused, within 2 s. */
function drainRest (it: AsyncIterator<unknown>): void {
  const timer = setTimeout(() => { void it.return?.() }, 2000)
  timer.unref()
  void (async () => {
    try { while (!(await it.next()).done); } catch {} finally { clearTimeout(timer) }
  })()
}
