import { Type } from 'typebox'

/**
 * The public API's version and error vocabulary (spec api-and-core.md §1.5, §1.6): what every
 * route under `/v1` answers with, and what an extension throws to answer a client.
 */

/**
 * The public API version: the OpenAPI document's `info.version` and the `api_version` of
 * `GET /v1/capabilities` come from this one constant (ORCH-3096), so they cannot differ.
 */
export const API_VERSION = '1.0.0'

/** The closed ErrorKind enum of the public API (spec api-and-core.md §1.5). */
export const ERROR_KINDS = {
  ADMISSION_REJECT: { status: 429, retriable: true },
  QUEUE_FULL_DROP_LRU: { status: 429, retriable: true },
  INVALID_PARAMS: { status: 400, retriable: false },
  DEADLINE_UNMET: { status: 400, retriable: false },
  POOL_UNREADY: { status: 503, retriable: true },
  POOL_UNAVAILABLE: { status: 503, retriable: true },
  REPLICA_EXHAUSTED: { status: 503, retriable: true },
  DECODE_TIMEOUT: { status: 500, retriable: true },
  WORKER_RESET: { status: 500, retriable: true },
  INTERNAL: { status: 500, retriable: false },
  MODEL_DEPRECATED: { status: 403, retriable: false },
  UNTRUSTED_ARTIFACT: { status: 400, retriable: false },
} as const

export type ErrorKind = keyof typeof ERROR_KINDS

/** ErrorEnvelope (ORCH-2006): fields are left out rather than sent as null. */
export const ErrorEnvelope = Type.Object({
  code: Type.String(),
  message: Type.String(),
  engine: Type.Optional(Type.String()),
  retriable: Type.Optional(Type.Boolean()),
  retry_after_ms: Type.Optional(Type.Integer()),
  policy_label: Type.Optional(Type.String()),
  pool_id: Type.Optional(Type.String()),
})

export interface ErrorEnvelope {
  code: ErrorKind
  message: string
  engine?: string
  retriable?: boolean
  retry_after_ms?: number
  policy_label?: string
  pool_id?: string
}

export interface ApiErrorOptions {
  engine?: string | undefined
  pool_id?: string | undefined
  retry_after_ms?: number | undefined
  policy_label?: string | undefined
  /** Overrides the HTTP status of the kind (e.g. 404 for an unknown task, D12; 409 for a conflict). */
  status?: number | undefined
}

/**
 * A failure the API reports with a stable code. Throw it from any route under `/v1`:
 * the error handler turns it into an ErrorEnvelope with the right status and, for
 * retriable answers, `Retry-After` and `X-Backoff-Ms` (decision 6).
 */
export class ApiError extends Error {
  readonly code: ErrorKind
  readonly statusCode: number
  readonly options: ApiErrorOptions

  constructor (code: ErrorKind, message: string, options: ApiErrorOptions = {}) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.statusCode = options.status ?? ERROR_KINDS[code].status
    this.options = options
  }

  envelope (): ErrorEnvelope {
    const { engine, pool_id: poolId, retry_after_ms: retryAfterMs, policy_label: policyLabel } = this.options
    return {
      code: this.code,
      message: this.message,
      ...(engine !== undefined ? { engine } : {}),
      retriable: ERROR_KINDS[this.code].retriable,
      ...(retryAfterMs !== undefined ? { retry_after_ms: retryAfterMs } : {}),
      ...(policyLabel !== undefined ? { policy_label: policyLabel } : {}),
      ...(poolId !== undefined ? { pool_id: poolId } : {}),
    }
  }
}

/** `Retry-After` in whole seconds, `max(1, ceil(ms / 1000))` (spec §1.6). */
export function retryAfterSeconds (ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}
