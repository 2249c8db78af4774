import type {
  AdapterBinding, CallOpts, CapabilitySnapshot, EndData, EngineMetricsSnapshot, StartedData, SubmitOpts, TaskRequest, TokenEvent,
  WorkerAdapter, WorkerHealth, WorkerProps,
} from '../../core/sdk.js'
import { determinismOf, isKnownProfile, type Determinism } from '../../core/determinism.js'
import { workerError, type UpstreamCondition } from '../../core/worker-errors.js'
import { DecodeError, SseDecoder } from '../http-util/decode.js'
import { UpstreamError } from '../http-util/upstream-error.js'
import type { HttpClient, StreamResponse } from '../http-util/client.js'
import { Watchdog, type WatchdogReason } from './watchdog.js'

export interface StopInfo { stop_reason: EndData['stop_reason'], tokens_out?: number | undefined, tokens_in?: number | undefined }

/** What a protocol's frame handler reports; the kit turns it into events. */
export interface FrameSink {
  /** One upstream delta; empty text is dropped. */
  token (text: string): void
  metrics (data: Record<string, number | boolean | string>): void
  /** The terminal frame. */
  end (info: StopInfo): void
  fail (condition: UpstreamCondition, message: string, upstreamStatus?: number): void
}

/** One generation request in an engine's protocol, with its per-stream decoding state. */
export interface GenerationStream {
  path: string
  body: unknown
  /** One SSE event. */
  frame (data: string, event: string, sink: FrameSink): void
  /** The body ended without a terminal frame (default: WORKER_RESET). */
  eof? (sink: FrameSink): void
}

export interface StreamTimeouts { firstTokenMs: number, idleMs: number, wallMs?: number | null | undefined }

/** The engine-specific half of an HTTP adapter; the kit supplies submit, cancel and close. */
export interface EngineProtocol {
  engine: string
  baseUrl: string
  /** Sent on every call (credentials); never logged. */
  headers?: Record<string, string>
  open (req: TaskRequest, d: Determinism): GenerationStream
  health (o?: CallOpts): Promise<WorkerHealth>
  props (o?: CallOpts): Promise<WorkerProps>
  /** Uncached; the kit caches the first success. */
  engineVersion (o?: CallOpts): Promise<string>
  capabilities? (o?: CallOpts): Promise<CapabilitySnapshot>
  scrapeMetrics? (o?: CallOpts): Promise<EngineMetricsSnapshot>
  close? (): Promise<void>
  /** Engine-specific extras put on the adapter object (e.g. llama.cpp `tokenize`). */
  extras?: Record<string, unknown>
}

interface Running { controller: AbortController, canceled: boolean }

const WATCHDOG_TEXT: Record<WatchdogReason, (engine: string, t: StreamTimeouts) => string> = {
  first_token_timeout: (e, t) => `no first token from ${e} within ${t.firstTokenMs} ms`,
  idle_timeout: (e, t) => `no token from ${e} for ${t.idleMs} ms`,
  deadline: (e) => `the task deadline passed while waiting on ${e}`,
}

const CANCELED = new Error('canceled')

/** After a 401/403 the adapter reports `ready: false` this long, whatever its probe says (spec §1.4). */
export const AUTH_HOLD_MS = 30_000

/**
 * An adapter over a streaming HTTP protocol (spec adapters §1.3): `started` once the engine
 * answers 2xx with an event stream, one `token` per non-empty delta with `i` counting from 0,
 * at most one terminal event, nothing after a cancel, and every failure mapped by the shared
 * table. Retries before the first response byte happen in the HttpClient, never here.
 */
export function createHttpAdapter (protocol: EngineProtocol, binding: AdapterBinding, client: HttpClient, timeouts: StreamTimeouts, now: () => number = Date.now): WorkerAdapter {
  const running = new Map<string, Running>()
  let version: string | undefined
  let authFailedAt = -Infinity
  const engine = protocol.engine
  /** Notes credential failures on their way out. */
  const out = (e: TokenEvent): TokenEvent => {
    if (e.kind === 'error' && (e.data.upstream_status === 401 || e.data.upstream_status === 403)) authFailedAt = now()
    return e
  }

  const engineVersion = async (o?: CallOpts): Promise<string> => {
    version ??= await protocol.engineVersion(o)
    return version
  }

  async function * submit (req: TaskRequest, o: SubmitOpts): AsyncGenerator<TokenEvent> {
    const run: Running = { controller: new AbortController(), canceled: false }
    const onAbort = (): void => { run.canceled = true; run.controller.abort(CANCELED) }
    if (o.signal.aborted) { yield canceledEnd(0, 0); return }
    o.signal.addEventListener('abort', onAbort, { once: true })
    running.set(req.task_id, run)
    const started = now()
    const wallAt = Math.min(o.deadlineAt, timeouts.wallMs ? started + timeouts.wallMs : Infinity)
    const dog = new Watchdog({ now, firstTokenMs: timeouts.firstTokenMs, idleMs: timeouts.idleMs, wallAt, onFire: () => run.controller.abort(CANCELED) })
    const fail = (e: unknown): TokenEvent => errorFor(e, dog.fired, engine, timeouts)
    let tokens = 0
    let firstTokenAt = 0
    // true only when the stream ended normally and what is left of the body is being drained
    let draining = false
    try {
      const d = determinismOf(req, binding.pool)
      let stream: GenerationStream
      let res: StreamResponse
      let version: string
      try {
        if (!isKnownProfile(d.profile)) throw new UpstreamError('unsupported_request', `sampler profile "${d.profile}" is unknown to the ${engine} adapter (known: v1)`)
        stream = protocol.open(req, d)
        const versionP = engineVersion({ signal: run.controller.signal }).catch(() => 'unknown')
        res = await client.stream(`${protocol.baseUrl}${stream.path}`, {
          body: stream.body, headers: { accept: 'text/event-stream', ...protocol.headers }, signal: run.controller.signal, deadlineAt: wallAt,
          context: { engine, task_id: req.task_id, pool_id: o.poolId, replica_id: o.replicaId },
        })
        const type = String(res.headers['content-type'] ?? '')
        if (!type.includes('text/event-stream')) throw new UpstreamError('malformed_frame', `${engine} answered ${res.status} with content-type "${type}", not an event stream`)
        version = await versionP
      } catch (e) {
        yield run.canceled ? canceledEnd(0, 0) : out(fail(e))
        return
      }
      yield { kind: 'started', data: startedData(engine, version, d, o) }

      const queue: TokenEvent[] = []
      let terminal: TokenEvent | undefined
      const sink: FrameSink = {
        token (t) {
          if (t.length === 0 || terminal) return
          if (tokens === 0) firstTokenAt = now()
          queue.push({ kind: 'token', data: { t, i: tokens++ } })
        },
        metrics (data) { if (!terminal) queue.push({ kind: 'metrics', data }) },
        end (info) {
          if (terminal) return
          const data: EndData = { tokens_out: info.tokens_out ?? tokens, decode_time_ms: tokens === 0 ? 0 : now() - firstTokenAt, stop_reason: info.stop_reason }
          if (info.tokens_in !== undefined) data.tokens_in = info.tokens_in
          terminal = { kind: 'end', data }
        },
        fail (condition, message, status) {
          if (!terminal) terminal = { kind: 'error', data: workerError(condition, engine, message, { upstream_status: status }) }
        },
      }
      const decoder = new SseDecoder((data, event) => { if (!terminal) stream.frame(data, event, sink) })
      const it = res.body[Symbol.asyncIterator]()
      try {
        for (;;) {
          const r = await it.next()
          if (r.done) {
            decoder.end()
            if (!terminal) (stream.eof ?? resetAtEof(engine))(sink)
          } else decoder.push(r.value as Uint8Array)
          if (queue.length > 0) {
            dog.token()
            for (let k = 0; k < queue.length && !run.canceled; k++) yield queue[k]!
            queue.length = 0
            dog.resume()
          }
          if (run.canceled) break
          if (terminal) {
            if (!r.done && (terminal as TokenEvent).kind === 'end') { draining = true; drain(it) }
            yield out(terminal)
            return
          }
        }
      } catch (e) {
        if (!run.canceled) { yield fail(e); return }
      }
      yield canceledEnd(tokens, tokens === 0 ? 0 : now() - firstTokenAt)
    } finally {
      dog.stop()
      o.signal.removeEventListener('abort', onAbort)
      running.delete(req.task_id)
      // canceled, failed, or the consumer left early: close the upstream request
      if (!draining) run.controller.abort(CANCELED)
    }
  }

  const adapter: WorkerAdapter = {
    engine,
    async health (o) {
      const h = await protocol.health(o)
      return now() - authFailedAt < AUTH_HOLD_MS ? { live: h.live, ready: false } : h
    },
    props: (o) => protocol.props(o),
    engineVersion,
    submit,
    async cancel (taskId) {
      const run = running.get(taskId)
      if (!run || run.canceled) return
      run.canceled = true
      run.controller.abort(CANCELED)
    },
    async close () {
      for (const run of running.values()) { run.canceled = true; run.controller.abort(CANCELED) }
      await protocol.close?.()
    },
  }
  if (protocol.capabilities) adapter.capabilities = (o) => protocol.capabilities!(o)
  if (protocol.scrapeMetrics) adapter.scrapeMetrics = (o) => protocol.scrapeMetrics!(o)
  return Object.assign(adapter, protocol.extras)
}

function startedData (engine: string, version: string, d: Determinism, o: SubmitOpts): StartedData {
  const data: StartedData = { engine, engine_version: version, seed: d.seed, pool_id: o.poolId, replica_id: o.replicaId }
  if (d.sampler_profile_version !== undefined) data.sampler_profile_version = d.sampler_profile_version
  if (d.model_digest !== undefined) data.model_digest = d.model_digest
  return data
}

const canceledEnd = (tokens: number, ms: number): TokenEvent => ({ kind: 'end', data: { tokens_out: tokens, decode_time_ms: ms, stop_reason: 'canceled' } })

const resetAtEof = (engine: string) => (sink: FrameSink): void => { sink.fail('reset_after_headers', `${engine} closed the stream without a final frame`) }

/** After the terminal frame: read what is left so the connection can be reused, within 2 s. */
function drain (it: AsyncIterator<unknown>): void {
  const timer = setTimeout(() => { void it.return?.() }, 2000)
  timer.unref()
  void (async () => {
    try { while (!(await it.next()).done); } catch {} finally { clearTimeout(timer) }
  })()
}

function errorFor (e: unknown, fired: WatchdogReason | undefined, engine: string, t: StreamTimeouts): TokenEvent {
  if (fired) return { kind: 'error', data: workerError(fired, engine, WATCHDOG_TEXT[fired](engine, t)) }
  if (e instanceof UpstreamError) return { kind: 'error', data: e.toWorkerError(engine) }
  if (e instanceof DecodeError || e instanceof SyntaxError) return { kind: 'error', data: workerError('malformed_frame', engine, `${engine} sent a frame that cannot be decoded: ${e.message}`) }
  const err = e as { code?: string, message?: string }
  if (typeof err?.code === 'string' && (err.code.startsWith('UND_ERR') || err.code.startsWith('E'))) {
    return { kind: 'error', data: workerError('reset_after_headers', engine, `${engine} dropped the stream: ${err.code}`) }
  }
  if (err?.message === 'terminated' || (e as Error)?.name === 'AbortError') {
    return { kind: 'error', data: workerError('reset_after_headers', engine, `${engine} dropped the stream`) }
  }
  return { kind: 'error', data: workerError('adapter_exception', engine, `${engine} adapter failure: ${err?.message ?? String(e)}`) }
}
