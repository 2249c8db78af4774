import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, retryAfterSeconds } from '../../sdk/api.js'

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
    const extra = v.params?.additionalProperty
    if (typeof extra === 'string') return `${context}${v.instancePath ?? ''}/${extra} is not a field of this request; remove it`
    const field = typeof missing === 'string' ? `${v.instancePath ?? ''}/${missing}` : v.instancePath || '/'
    const allowed = Array.isArray(v.params?.allowedValues) ? ` (${(v.params.allowedValues as unknown[]).join(', ')})` : ''
    return `${context}${field} ${typeof missing === 'string' ? 'is required' : v.message ?? 'is invalid'}${allowed}`
  })
  return [...new Set(parts)].join('; ')
}

/** What the client sent wrong, in words it can act on (Fastify's own text for the rest). */
function requestFault (fe: FastifyError, req: FastifyRequest): string {
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return `the body is over this route's limit of ${req.routeOptions.bodyLimit} bytes; send a smaller body`
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'the body needs Content-Type: application/json'
  return fe.message
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
    // malformed JSON, wrong content type, body over the limit: the request is at fault (spec §1.1);
    // the status says which (413 too large, 415 no or unsupported content type, issue 10 #9)
    return sendApiError(reply, new ApiError('INVALID_PARAMS', requestFault(fe, req), { engine, status: fe.statusCode }))
  }
  req.log.error({ err }, 'unhandled error in an API route') // req.log lines carry correlation_id
  return sendApiError(reply, new ApiError('INTERNAL', 'internal error; the cause is in the server log under this correlation id', { engine }))
}
