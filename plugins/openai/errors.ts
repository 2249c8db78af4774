import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, retryAfterSeconds } from '../../sdk/api.js'

/** OpenAI's error object (openai-compat.md §4): `{error: {message, type, param, code}}`. */
export interface OpenAiErrorBody { error: { message: string, type: string, param: string | null, code: string | null } }

/** A refusal in OpenAI's terms; `param` names the field at fault. */
export class OpenAiError extends Error {
  readonly status: number
  readonly type: string
  readonly param: string | null
  readonly code: string | null
  readonly retryAfterMs: number | undefined

  constructor (status: number, message: string, o: { type?: string, param?: string | null, code?: string | null, retryAfterMs?: number } = {}) {
    super(message)
    this.name = 'OpenAiError'
    this.status = status
    this.type = o.type ?? typeFor(status)
    this.param = o.param ?? null
    this.code = o.code ?? null
    this.retryAfterMs = o.retryAfterMs
  }

  body (): OpenAiErrorBody { return { error: { message: this.message, type: this.type, param: this.param, code: this.code } } }
}

/** The `type` OpenAI uses for each status. */
function typeFor (status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 429) return 'rate_limit_error'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

/**
 * `/max_tokens 40 plus …` → `max_tokens`: the native API's messages start with the field's JSON
 * pointer; a task's `/sampling/top_k` is the request's top-level `top_k`.
 */
const paramOf = (message: string): string | null => /^(?:body)?\/(?:sampling\/)?([a-z_]+)/.exec(message)?.[1] ?? null

/** OpenAI's refusal of a request that lacks a field (`param` names it, dotted when nested). */
export const missingParam = (param: string): OpenAiError =>
  new OpenAiError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' })

interface ValidationItem { instancePath?: string, message?: string, params?: Record<string, unknown> }

/** A failing schema item as OpenAI states it: the top-level field is the `param`. */
function fromValidation (items: ValidationItem[]): OpenAiError {
  const v = items[0] ?? {}
  const missing = v.params?.missingProperty
  const extra = v.params?.additionalProperty
  const path = (v.instancePath ?? '').replace(/^\//, '')
  if (typeof extra === 'string') {
    const at = path === '' ? extra : `${path}.${extra}`
    return new OpenAiError(400, `Unrecognized request argument supplied: ${at}`, { param: at, code: 'unknown_parameter' })
  }
  if (typeof missing === 'string') return missingParam(missing)
  const field = path.split('/')[0] || null
  return new OpenAiError(400, `Invalid value for '${path || 'body'}': ${v.message ?? 'is invalid'}.`, { param: field, code: 'invalid_value' })
}

/** Any failure under the OpenAI routes, in OpenAI's shape. */
export function toOpenAiError (err: unknown): OpenAiError {
  if (err instanceof OpenAiError) return err
  if (err instanceof ApiError) {
    const retry = err.options.retry_after_ms
    const code = err.statusCode === 429 ? 'rate_limit_exceeded' : err.code.toLowerCase()
    return new OpenAiError(err.statusCode, err.message, { param: paramOf(err.message), code, ...(retry !== undefined ? { retryAfterMs: retry } : {}) })
  }
  const fe = err as FastifyError
  if (fe.validation) return fromValidation(fe.validation as ValidationItem[])
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new OpenAiError(fe.statusCode, fe.message)
  return new OpenAiError(500, 'internal error; the cause is in the server log under this request\'s X-Correlation-Id', { code: 'internal_error' })
}

/** Writes the error with the retry headers the official SDKs obey (`retry-after-ms` first). */
export function sendOpenAiError (reply: FastifyReply, e: OpenAiError): FastifyReply {
  if (e.retryAfterMs !== undefined) {
    reply.header('retry-after-ms', String(Math.round(e.retryAfterMs)))
    reply.header('retry-after', String(retryAfterSeconds(e.retryAfterMs)))
  }
  return reply.code(e.status).send(e.body())
}

export function openAiErrorHandler (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toOpenAiError(err)
  if (e.status >= 500 && !(err instanceof ApiError)) req.log.error({ err }, 'unhandled error in an OpenAI route')
  return sendOpenAiError(reply, e)
}
