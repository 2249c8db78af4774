import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ApiError } from '../../sdk/api.js'
import { AdmissionResponse, ErrorEnvelope, SessionInfo, SessionParams, StreamQuery, TaskParams, TaskRequest } from './api-schema.js'
import type { Task } from './tasks.js'

const Empty = Type.Null({ description: 'no body' })
const errors = { 400: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 429: ErrorEnvelope, 500: ErrorEnvelope, 503: ErrorEnvelope }

/** `Last-Event-ID: N` resumes after frame N; anything else replays the whole log. */
function resumeFrom (header: string | string[] | undefined): number {
  const v = Array.isArray(header) ? header[0] : header
  return v !== undefined && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) + 1 : 0
}

/**
 * The data plane routes under `/v1` (spec api-and-core.md §2): enqueue, stream, cancel and
 * sessions. Everything thrown is an ApiError turned into an ErrorEnvelope by the http stage.
 */
export const dataPlaneRoutes: FastifyPluginAsync = async (app) => {
  const dp = app.queue

  app.post('/tasks', {
    schema: { tags: ['data plane'], summary: 'Enqueue a task', body: TaskRequest, response: { 202: AdmissionResponse, ...errors } },
  }, async (req, reply) => {
    const key = req.headers['x-api-key']
    const { body, headers } = dp.admit(req.body as Record<string, unknown>, req.correlationId, typeof key === 'string' && key !== '' ? `key:${key}` : `ip:${req.ip}`)
    reply.headers(headers)
    return reply.code(202).send(body)
  })

  app.get('/tasks/:id/stream', {
    schema: { tags: ['data plane'], summary: 'Stream a task as server-sent events', params: TaskParams, querystring: StreamQuery, response: { 404: ErrorEnvelope } },
    sse: { kind: 'manual', heartbeat: false },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const task = dp.task(id) as Task | undefined
    if (!task) throw new ApiError('INVALID_PARAMS', `task ${id} is unknown or its retention has expired`, { status: 404 })
    const { cancel_on_disconnect: cancelOnDisconnect = false } = req.query as { cancel_on_disconnect?: boolean }
    reply.headers(dp.sessionHeaders(task.req.session_id))
    reply.sse.keepAlive()
    reply.sse.sendHeaders(200)
    dp.subscribe(task, reply.raw, { from: resumeFrom(req.headers['last-event-id']), cancelOnDisconnect })
  })

  app.post('/tasks/:id/cancel', {
    schema: { tags: ['data plane'], summary: 'Cancel a task (idempotent)', params: TaskParams, response: { 204: Empty, 400: ErrorEnvelope } },
  }, async (req, reply) => {
    dp.cancel((req.params as { id: string }).id)
    return reply.code(204).send()
  })

  app.get('/sessions/:id', {
    schema: { tags: ['data plane'], summary: 'Session state', params: SessionParams, response: { 200: SessionInfo, 400: ErrorEnvelope, 404: ErrorEnvelope } },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const info = dp.session(id)
    if (!info) throw new ApiError('INVALID_PARAMS', `session ${id} is unknown or expired`, { status: 404 })
    return info
  })

  app.delete('/sessions/:id', {
    schema: { tags: ['data plane'], summary: 'Evict a session (idempotent)', params: SessionParams, response: { 204: Empty, 400: ErrorEnvelope } },
  }, async (req, reply) => {
    dp.deleteSession((req.params as { id: string }).id)
    return reply.code(204).send()
  })
}
