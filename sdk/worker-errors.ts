/**
 * The error mapping shared by every adapter (spec adapters §1.4, ORCH-3275, ADAPT-3002):
 * engine or transport condition → WorkerErrorKind → public ErrorKind. Exported from
 * `llama-orch/sdk` so third-party adapters map failures the same way.
 */
import type { WorkerErrorData, WorkerErrorKind } from './adapter.js'
import { redactString } from './redact.js'

/** The public ErrorKinds an adapter's failure can become (the rest come from admission and the catalog). */
export type PublicWorkerErrorKind = 'POOL_UNAVAILABLE' | 'DECODE_TIMEOUT' | 'WORKER_RESET' | 'INTERNAL' | 'DEADLINE_UNMET'

/** Second stage: worker kind → public ErrorKind (ADAPTER has no public kind, D22). */
export const PUBLIC_ERROR_KIND: Readonly<Record<WorkerErrorKind, PublicWorkerErrorKind>> = {
  POOL_UNAVAILABLE: 'POOL_UNAVAILABLE',
  DECODE_TIMEOUT: 'DECODE_TIMEOUT',
  DEADLINE_UNMET: 'DEADLINE_UNMET',
  WORKER_RESET: 'WORKER_RESET',
  ADAPTER: 'INTERNAL',
  INTERNAL: 'INTERNAL',
}

interface Row { kind: WorkerErrorKind, retriable: boolean, when: string }

/** First stage, one row per condition of the spec's table. */
export const UPSTREAM_CONDITIONS = {
  connect_refused: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'connection refused' },
  connect_timeout: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'no TCP/TLS connection within the connect timeout' },
  dns_failure: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'the host name does not resolve' },
  stale_socket: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'a socket closed before any response header arrived' },
  http_503: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'HTTP 503 (loading, engine dead, not ready)' },
  http_429: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'HTTP 429 (overloaded, rate limited)' },
  quota_exhausted: { kind: 'ADAPTER', retriable: false, when: 'HTTP 429 insufficient_quota (OpenAI)' },
  breaker_open: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'the circuit breaker of the replica is open' },
  no_replica: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'no adapter is bound for the pool' },
  control_timeout: { kind: 'POOL_UNAVAILABLE', retriable: true, when: 'a control call (health, props, version) got no answer in time' },
  first_token_timeout: { kind: 'DECODE_TIMEOUT', retriable: false, when: 'no headers or no first token within the first-token timeout' },
  idle_timeout: { kind: 'DECODE_TIMEOUT', retriable: false, when: 'a gap between tokens longer than the idle timeout' },
  deadline: { kind: 'DEADLINE_UNMET', retriable: false, when: 'the task deadline or the wall timeout elapsed' },
  retry_after_past_deadline: { kind: 'DEADLINE_UNMET', retriable: false, when: 'Retry-After or the backoff would overrun the deadline' },
  reset_after_headers: { kind: 'WORKER_RESET', retriable: false, when: 'socket reset or EOF after headers without a terminal frame' },
  incomplete_generation: { kind: 'WORKER_RESET', retriable: false, when: 'TGI incomplete_generation (500)' },
  http_client_error: { kind: 'ADAPTER', retriable: false, when: 'HTTP 400/404/422 and other 4xx: validation, unknown model' },
  http_auth: { kind: 'ADAPTER', retriable: false, when: 'HTTP 401/403: credentials (also flips health ready=false)' },
  http_server_error: { kind: 'ADAPTER', retriable: false, when: 'HTTP 500/502 and other 5xx' },
  engine_generation_error: { kind: 'ADAPTER', retriable: false, when: 'TGI generation error (424)' },
  stream_error_frame: { kind: 'ADAPTER', retriable: false, when: 'an error frame inside a stream' },
  malformed_frame: { kind: 'ADAPTER', retriable: false, when: 'a malformed frame, bad JSON, a line over 1 MiB, a wrong content type' },
  unsupported_request: { kind: 'ADAPTER', retriable: false, when: 'a request the adapter cannot express (unknown sampler profile)' },
  adapter_exception: { kind: 'INTERNAL', retriable: false, when: 'an unexpected exception inside adapter code' },
} as const satisfies Record<string, Row>

export type UpstreamCondition = keyof typeof UPSTREAM_CONDITIONS

/** The worker message cap of the contract. */
export const WORKER_MESSAGE_MAX = 512

/** Redacts and truncates text meant for a WorkerErrorData message. */
export function workerMessage (text: string): string {
  const clean = redactString(text)
  return clean.length <= WORKER_MESSAGE_MAX ? clean : `${clean.slice(0, WORKER_MESSAGE_MAX - 1)}…`
}

export interface WorkerErrorExtra { upstream_status?: number | undefined, retry_after_ms?: number | undefined }

/** A WorkerErrorData for a condition: kind and retriable from the table, message redacted. */
export function workerError (condition: UpstreamCondition, engine: string, message: string, extra: WorkerErrorExtra = {}): WorkerErrorData {
  const row = UPSTREAM_CONDITIONS[condition]
  const data: WorkerErrorData = { kind: row.kind, message: workerMessage(message), retriable: row.retriable, engine }
  if (extra.upstream_status !== undefined) data.upstream_status = extra.upstream_status
  if (extra.retry_after_ms !== undefined && row.retriable) data.retry_after_ms = Math.max(0, Math.round(extra.retry_after_ms))
  return data
}

/** What an error body may say about itself (TGI `error_type`, OpenAI `error.code`/`type`). */
export interface ErrorHint { error_type?: string | undefined, code?: string | undefined }

/** The condition of a non-2xx HTTP answer. */
export function conditionForStatus (status: number, hint: ErrorHint = {}): UpstreamCondition {
  if (status === 503) return 'http_503'
  if (status === 429) return hint.code === 'insufficient_quota' || hint.error_type === 'insufficient_quota' ? 'quota_exhausted' : 'http_429'
  if (status === 401 || status === 403) return 'http_auth'
  if (status === 424) return 'engine_generation_error'
  if (status === 500 && hint.error_type === 'incomplete_generation') return 'incomplete_generation'
  if (status >= 500) return 'http_server_error'
  return 'http_client_error'
}

/** The condition of a Node/undici transport error raised before any response header. */
export function conditionForTransport (code: string | undefined): UpstreamCondition {
  switch (code) {
    case 'ECONNREFUSED': return 'connect_refused'
    case 'UND_ERR_CONNECT_TIMEOUT': case 'ETIMEDOUT': return 'connect_timeout'
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'dns_failure'
    default: return 'stale_socket'
  }
}

/**
 * The error every consumer of a token stream reports when the stream stops with neither
 * `end` nor `error` (spec adapters §1.3: exactly one terminal event): WORKER_RESET.
 */
export function endedWithoutTerminal (engine: string): WorkerErrorData {
  return workerError('reset_after_headers', engine, 'the engine stream ended without a terminal event')
}
