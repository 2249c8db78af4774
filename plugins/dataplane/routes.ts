import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError, ErrorEnvelope } from '../../sdk/api.js'
import { TaskRequest } from '../../sdk/task.js'
import { AdmissionResponse, StreamQuery, TaskParams } from './api-schema.js'

const Empty = Type.Null({ description: 'no body' })
const errors = { 400: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 429: ErrorEnvelope, 500: ErrorEnvelope, 503: ErrorEnvelope }

/** `Last-Event-ID: N` resumes after frame N; anything else replays the whole log. */
function resumeFrom (header: string | string[] | undefined): number {
  const v = Array.isArray(header) ? header[0] : header
  return v !== undefined && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) + 1 : 0
}

/**
 * The task routes under `/v1` (spec api-and-core.md §2): enqueue, stream and cancel.
 * Everything thrown is an ApiError turned into an ErrorEnvelope by the http stage.
 */
export const dataPlaneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const dp = app.dataplane

  app.post('/tasks', {
    schema: { tags: ['data plane'], summary: 'Enqueue a task', body: TaskRequest, response: { 202: AdmissionResponse, ...errors } },
  }, async (req, reply) => {
    const { body, headers } = dp.admit(req.body, req.correlationId, req.apiClient)
    reply.headers(headers)
    return reply.code(202).send(body)
  })

  app.get('/tasks/:id/stream', {
    schema: {
      tags: ['data plane'],
      summary: 'Stream a task as server-sent events',
      params: TaskParams,
      querystring: StreamQuery,
      response: { 404: ErrorEnvelope },
    },
    sse: { kind: 'manual', heartbeat: false },
  }, async (req, reply) => {
    const { id } = req.params
    const task = dp.task(id)
    if (!task) throw new ApiError('INVALID_PARAMS', `task ${id} is unknown or its retention has expired`, { status: 404 })
    const session = app.sessions.get(task.req.session_id)
    if (session) reply.headers(app.sessions.headers(session))
    reply.sse.keepAlive()
    reply.sse.sendHeaders(200)
    dp.subscribe(task, reply.raw, { from: resumeFrom(req.headers['last-event-id']), cancelOnDisconnect: req.query.cancel_on_disconnect ?? false })
  })

  app.post('/tasks/:id/cancel', {
    schema: { tags: ['data plane'], summary: 'Cancel a task (idempotent)', params: TaskParams, response: { 204: Empty, 400: ErrorEnvelope } },
  }, async (req, reply) => {
    dp.cancel(req.params.id)
    return reply.code(204).send(null)
  })
}
