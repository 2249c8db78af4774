import { Agent, type Dispatcher } from 'undici'
import { UPSTREAM_CONDITIONS, conditionForStatus, conditionForTransport, type UpstreamCondition } from '../../sdk/worker-errors.js'
import { redactString } from '../../sdk/redact.js'
import { DEFAULT_BACKOFF, retryDelayMs, parseRetryAfter, sleep, type BackoffPolicy } from './retry.js'
import { ORC_ERR_HTTP_CLIENT_CLOSED, UpstreamError } from './errors.js'
import { describeErrorText } from './upstream-error.js'

export interface HttpClientOptions {
  /** Connections per origin (spec §3.3: 8). */
  connections?: number
  /** Default: 2000 ms for loopback origins, 10000 ms for remote ones. */
  connectTimeoutMs?: number
  /** Idle keep-alive when the server gives no hint; server hints are honoured up to 90 s. */
  keepAliveTimeoutMs?: number
  /** HTTP/2 through ALPN; default on for `https:` origins only (D12). */
  allowH2?: boolean
  /** Control calls (health, props, version, metrics, tokenize): default 5000 ms. */
  requestTimeoutMs?: number
  backoff?: Partial<BackoffPolicy>
  /** Called before each retry's pause: narrate it (never per token). */
  onRetry?: (info: RetryInfo) => void
  random?: () => number
  now?: () => number
}

export interface RetryInfo {
  method: string
  /** Redacted. */
  url: string
  /** The retry about to happen: 1 = the second try. */
  attempt: number
  backoff_ms: number
  reason: UpstreamCondition
  upstream_status?: number
  context: Record<string, unknown>
}

export type ResponseHeaders = Record<string, string | string[] | undefined>

export interface CallOptions {
  method?: 'GET' | 'HEAD' | 'POST'
  headers?: Record<string, string>
  /** Sent as JSON. */
  body?: unknown
  signal?: AbortSignal
  timeoutMs?: number
  /** GET/HEAD are; a POST is only when it says so (`/tokenize`). Only idempotent calls are retried. */
  idempotent?: boolean
  attempts?: number
  /** Ids passed on to onRetry (task, pool, replica, engine). */
  context?: Record<string, unknown>
  maxBodyBytes?: number
}

export interface CallResult { status: number, headers: ResponseHeaders, text: string }

export interface StreamOptions {
  headers?: Record<string, string>
  body: unknown
  /** Aborting it (cancel, watchdog) ends the request at once; it is never retried after. */
  signal: AbortSignal
  /** No retry pause may end past it. */
  deadlineAt: number
  context?: Record<string, unknown>
}

export interface StreamResponse { status: number, headers: ResponseHeaders, body: Dispatcher.ResponseData['body'] }

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])
const CONTROL_BODY_MAX = 4 * 1024 * 1024
const ERROR_BODY_MAX = 64 * 1024

/**
 * The shared upstream client (ORCH-3610..3613): one undici Agent per origin with keep-alive
 * and bounded connections, split timeouts, and retries with full-jitter backoff only where
 * they are safe (decision 10). Errors are UpstreamErrors with redacted messages.
 */
export class HttpClient {
  private readonly agents = new Map<string, Agent>()
  private readonly o: HttpClientOptions
  private readonly policy: BackoffPolicy
  private readonly now: () => number
  private closed = false
  /** Aborts every request still running when close() runs out of grace. */
  private readonly shutdown = new AbortController()

  constructor (o: HttpClientOptions = {}) {
    this.o = o
    this.policy = { ...DEFAULT_BACKOFF, ...o.backoff }
    this.now = o.now ?? Date.now
  }

  /** The Agent of an origin, made on first use. */
  agentFor (origin: string): Agent {
    let agent = this.agents.get(origin)
    if (agent) return agent
    if (this.closed) throw new ORC_ERR_HTTP_CLIENT_CLOSED()
    const url = new URL(origin)
    const remote = !LOOPBACK.has(url.hostname)
    agent = new Agent({
      connections: this.o.connections ?? 8,
      keepAliveTimeout: this.o.keepAliveTimeoutMs ?? 4000,
      keepAliveMaxTimeout: 90_000,
      allowH2: this.o.allowH2 ?? url.protocol === 'https:',
      connect: { timeout: this.o.connectTimeoutMs ?? (remote ? 10_000 : 2000), keepAlive: true, keepAliveInitialDelay: 60_000 },
    })
    this.agents.set(origin, agent)
    return agent
  }

  origins (): string[] { return [...this.agents.keys()] }

  /** A control call: the whole answer as text, any status. Transport failures throw UpstreamError. */
  async call (url: string, o: CallOptions = {}): Promise<CallResult> {
    const method = o.method ?? (o.body === undefined ? 'GET' : 'POST')
    const idempotent = o.idempotent ?? (method === 'GET' || method === 'HEAD')
    const attempts = idempotent ? (o.attempts ?? this.policy.attempts) : 1
    const timeoutMs = o.timeoutMs ?? this.o.requestTimeoutMs ?? 5000
    const u = new URL(url)
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = AbortSignal.any(o.signal ? [o.signal, timeout, this.shutdown.signal] : [timeout, this.shutdown.signal])
      let err: UpstreamError
      try {
        const res = await this.agentFor(u.origin).request({
          origin: u.origin, path: u.pathname + u.search, method, signal, headersTimeout: 0, bodyTimeout: 0, ...encode(o.headers, o.body),
        })
        return { status: res.statusCode, headers: res.headers, text: await readText(res.body, o.maxBodyBytes ?? CONTROL_BODY_MAX, url) }
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason
        if (e instanceof UpstreamError) throw e
        if (this.shutdown.signal.aborted) throw closing()
        err = timeout.aborted
          ? new UpstreamError('control_timeout', `${method} ${safeUrl(url)} got no answer within ${timeoutMs} ms`)
          : transportError(e, method, url)
      }
      if (attempt >= attempts || !UPSTREAM_CONDITIONS[err.condition].retriable) throw err
      await this.pause(attempt, retryDelayMs(attempt, this.policy, this.o.random), err, method, url, o.context, o.signal)
    }
  }

  /** A control call that must answer 2xx with JSON. */
  async json<T = unknown> (url: string, o: CallOptions = {}): Promise<T> {
    const r = await this.call(url, o)
    if (r.status < 200 || r.status >= 300) throw statusError(r.status, r.text, r.headers, o.method ?? 'GET', url, this.now())
    try {
      return JSON.parse(r.text) as T
    } catch {
      throw new UpstreamError('malformed_frame', `${o.method ?? 'GET'} ${safeUrl(url)} answered with something that is not JSON`)
    }
  }

  /**
   * A generation request (POST). Retried only when no response byte arrived: a connection
   * failure, a stale pooled socket, or an immediate 503/429 (honouring Retry-After when it
   * fits the deadline). Resolves on a 2xx with the body unread; anything else throws.
   */
  async stream (url: string, o: StreamOptions): Promise<StreamResponse> {
    const u = new URL(url)
    for (let attempt = 1; ; attempt++) {
      let err: UpstreamError
      try {
        const res = await this.agentFor(u.origin).request({
          origin: u.origin,
          path: u.pathname + u.search,
          method: 'POST',
          signal: AbortSignal.any([o.signal, this.shutdown.signal]),
          headersTimeout: 0,
          bodyTimeout: 0,
          ...encode(o.headers, o.body),
        })
        if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers: res.headers, body: res.body }
        const text = await readText(res.body, ERROR_BODY_MAX, url).catch(() => '')
        err = statusError(res.statusCode, text, res.headers, 'POST', url, this.now())
      } catch (e) {
        if (o.signal.aborted) throw o.signal.reason
        if (this.shutdown.signal.aborted) throw closing()
        err = transportError(e, 'POST', url)
      }
      if (!UPSTREAM_CONDITIONS[err.condition].retriable || attempt >= this.policy.attempts) throw err
      const wait = err.retryAfterMs ?? retryDelayMs(attempt, this.policy, this.o.random)
      if (this.now() + wait > o.deadlineAt) {
        throw new UpstreamError(err.retryAfterMs !== undefined ? 'retry_after_past_deadline' : 'deadline',
          `${err.message}; waiting ${wait} ms to retry would overrun the task deadline`, { status: err.status })
      }
      await this.pause(attempt, wait, err, 'POST', url, o.context, o.signal)
    }
  }

  private async pause (
    attempt: number,
    ms: number,
    err: UpstreamError,
    method: string,
    url: string,
    context: Record<string, unknown> = {},
    signal?: AbortSignal
  ): Promise<void> {
    const info: RetryInfo = { method, url: safeUrl(url), attempt: attempt + 1, backoff_ms: ms, reason: err.condition, context }
    if (err.status !== undefined) info.upstream_status = err.status
    this.o.onRetry?.(info)
    await sleep(ms, signal)
  }

  /** Closes every Agent and its sockets, aborting what still runs after `graceMs`; later calls fail. */
  async close (graceMs = 1000): Promise<void> {
    this.closed = true
    const agents = [...this.agents.values()]
    this.agents.clear()
    const timer = setTimeout(() => this.shutdown.abort(closing()), graceMs)
    await Promise.all(agents.map((a) => a.close().catch(() => {})))
    clearTimeout(timer)
  }
}

const closing = (): UpstreamError => new UpstreamError('stale_socket', 'the HTTP client is closed: the server is stopping')

function encode (headers: Record<string, string> = {}, body: unknown): { headers: Record<string, string>, body?: string } {
  if (body === undefined) return { headers }
  return { headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }
}

/** The URL as it may appear in a message: credentials and secret query values removed. */
export function safeUrl (url: string): string {
  return redactString(url)
}

function transportError (e: unknown, method: string, url: string): UpstreamError {
  const err = e as { code?: string, message?: string, cause?: { code?: string } }
  const code = err.code ?? err.cause?.code
  const condition = conditionForTransport(code)
  return new UpstreamError(condition, `${method} ${safeUrl(url)} failed before any answer: ${code ?? err.message ?? 'unknown error'}`)
}

function statusError (status: number, text: string, headers: ResponseHeaders, method: string, url: string, now: number): UpstreamError {
  const { message, hint } = describeErrorText(text)
  const rid = headers['x-request-id']
  const id = typeof rid === 'string' ? ` (x-request-id ${rid})` : ''
  return new UpstreamError(conditionForStatus(status, hint), `${method} ${safeUrl(url)} answered ${status}${message ? `: ${message}` : ''}${id}`,
    { status, retryAfterMs: parseRetryAfter(headers, now) })
}

async function readText (body: AsyncIterable<Uint8Array>, max: number, url: string): Promise<string> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.byteLength
    if (size > max) throw new UpstreamError('malformed_frame', `${safeUrl(url)} answered with more than ${max} bytes`)
    parts.push(chunk)
  }
  return Buffer.concat(parts).toString('utf8')
}
