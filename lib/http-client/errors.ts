import createError from '@fastify/error'
import type { WorkerErrorData } from '../../sdk/adapter.js'
import { workerError, workerMessage, type UpstreamCondition } from '../../sdk/worker-errors.js'

/**
 * What the upstream HTTP client throws (spec adapters §1.4, §3.3). None of these reaches a
 * client as such: an adapter turns them into WorkerErrorData through the shared table.
 */

/**
 * A failure talking to an engine, already classified (spec adapters §1.4). It never holds
 * request options or headers: only a redacted message, the condition and the status.
 */
export class UpstreamError extends Error {
  readonly code = 'ORC_ERR_HTTP_UPSTREAM'
  readonly condition: UpstreamCondition
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined

  constructor (condition: UpstreamCondition, message: string, o: { status?: number | undefined, retryAfterMs?: number | undefined } = {}) {
    super(workerMessage(message))
    this.name = 'UpstreamError'
    this.condition = condition
    this.status = o.status
    this.retryAfterMs = o.retryAfterMs
  }

  toWorkerError (engine: string): WorkerErrorData {
    return workerError(this.condition, engine, this.message, { upstream_status: this.status, retry_after_ms: this.retryAfterMs })
  }
}

/** A stream that cannot be decoded: maps to the `malformed_frame` condition (ADAPTER). */
export class DecodeError extends Error {
  readonly code = 'ORC_ERR_HTTP_DECODE'
  readonly condition = 'malformed_frame' as const

  constructor (message: string) {
    super(message)
    this.name = 'DecodeError'
  }
}

export const ORC_ERR_HTTP_CLIENT_CLOSED = createError(
  'ORC_ERR_HTTP_CLIENT_CLOSED',
  'llama-orch: the HTTP client is closed; an adapter\'s client closes with the app, so build a new adapter',
  500
)
