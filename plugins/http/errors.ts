import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

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

export function sendApiError (reply: FastifyReply, err: ApiError): FastifyReply {
  const ms = err.options.retry_after_ms
  if (ms !== undefined) {
    reply.header('retry-after', String(retryAfterSeconds(ms)))
    reply.header('x-backoff-ms', String(Math.round(ms)))
  }
  return reply.code(err.statusCode).send(err.envelope())
}

/** The engine named in a request body, when the body parsed far enough to have one (spec §1.4). */
function engineOf (req: FastifyRequest): string | undefined {
  const body = req.body as { engine?: unknown } | undefined
  return typeof body?.engine === 'string' ? body.engine : undefined
}

interface ValidationItem { instancePath?: string, message?: string, params?: Record<string, unknown> }

/** "`/ctx` must be >= 0"-style text naming each failing field. */
export function describeValidation (items: ValidationItem[], context: string): string {
  const parts = items.map((v) => {
    const missing = v.params?.missingProperty
    const field = typeof missing === 'string' ? `${v.instancePath ?? ''}/${missing}` : v.instancePath || '/'
    const allowed = Array.isArray(v.params?.allowedValues) ? ` (${(v.params.allowedValues as unknown[]).join(', ')})` : ''
    return `${context}${field} ${typeof missing === 'string' ? 'is required' : v.message ?? 'is invalid'}${allowed}`
  })
  return [...new Set(parts)].join('; ')
}

/**
 * Maps every failure under `/v1` to an ErrorEnvelope: ApiErrors as they are, schema and
 * body-parsing failures to 400 INVALID_PARAMS naming the field (never Fastify's default
 * body), anything else to 500 INTERNAL with a message that does not leak internals.
 */
export function apiErrorHandler (err: FastifyError | ApiError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof ApiError) {
    if (err.options.engine === undefined && engineOf(req) !== undefined) err.options.engine = engineOf(req)
    return sendApiError(reply, err)
  }
  const engine = engineOf(req)
  const fe = err as FastifyError
  if (fe.validation) {
    return sendApiError(reply, new ApiError('INVALID_PARAMS', describeValidation(fe.validation as ValidationItem[], fe.validationContext ?? ''), { engine }))
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // malformed JSON, wrong content type, body over the limit: the request is at fault (spec §1.1)
    return sendApiError(reply, new ApiError('INVALID_PARAMS', fe.message, { engine }))
  }
  req.log.error({ err }, 'unhandled error in an API route')
  return sendApiError(reply, new ApiError('INTERNAL', 'internal error; the cause is in the server log under this correlation id', { engine }))
}
