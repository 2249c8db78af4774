import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { ApiError, ErrorEnvelope } from '../../sdk/api.js'
import { TaskSubmission } from '../../sdk/task.js'
import { AdmissionResponse, StreamQuery, TaskParams } from './api-schema.js'
import type { DataPlane } from './dataplane.js'
import type { Task } from './tasks.js'

const Empty = Type.Null({ description: 'no body' })
const errors = { 400: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 429: ErrorEnvelope, 500: ErrorEnvelope, 503: ErrorEnvelope }

/** `Last-Event-ID: N` resumes after frame N; anything else replays the whole log. */
function resumeFrom (header: string | string[] | undefined): number {
  const v = Array.isArray(header) ? header[0] : header
  return v !== undefined && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) + 1 : 0
}

/**
 * Whether the client asked for the stream itself (issue 11 item 4): `text/event-stream` named
 * in Accept with a non-zero q. Wildcards do not count: curl and most clients send `* / *` and
 * have always had the JSON 202.
 */
export function wantsEventStream (accept: string | undefined): boolean {
  if (accept === undefined) return false
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    return type === 'text/event-stream' && !params.some((p) => /^q=0(\.0{0,3})?$/.test(p))
  })
}

/** The one way a task's frames reach a client: the task's event log through `dataplane.subscribe` (sse.ts). */
function openStream (dp: DataPlane, reply: FastifyReply, task: Readonly<Task>, from: number, cancelOnDisconnect: boolean): void {
  reply.sse.keepAlive()
  reply.sse.sendHeaders(200)
  dp.subscribe(task, reply.raw, { from, cancelOnDisconnect })
}

/**
 * The task routes under `/v1` (spec api-and-core.md §2): enqueue, stream and cancel.
 * Everything thrown is an ApiError turned into an ErrorEnvelope by the http stage.
 */
export const dataPlaneRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const dp = app.dataplane
  const streamPath = (id: string): string => `${app.prefix}/tasks/${id}/stream`

  app.post('/tasks', {
    schema: {
      tags: ['data plane'],
      summary: 'Enqueue a task; with Accept: text/event-stream, answer its stream on this connection',
      description: 'Only model_ref is required (defaults: see the fields). 202 with the admission and a Location header naming the ' +
        'stream; or, when Accept names text/event-stream, 200 with the frames of GET /v1/tasks/{id}/stream. Refusals are ErrorEnvelopes either way.',
      body: TaskSubmission,
      querystring: StreamQuery,
      response: { 202: AdmissionResponse, ...errors },
    },
    // 'manual': the handler decides, after admission, whether the answer is SSE or JSON
    sse: { kind: 'manual', heartbeat: false },
  }, async (req, reply) => {
    const stream = wantsEventStream(req.headers.accept)
    const cancelOnDisconnect = req.query.cancel_on_disconnect ?? false
    // honour or reject: a 202 has no connection whose close could cancel anything
    if (cancelOnDisconnect && !stream) {
      throw new ApiError('INVALID_PARAMS', 'querystring/cancel_on_disconnect needs Accept: text/event-stream (on a 202 there is no stream to close)')
    }
    const { body, headers } = dp.admit(req.body, req.correlationId, req.apiClient)
    reply.headers(headers)
    reply.header('location', streamPath(body.task_id))
    if (!stream) return reply.code(202).send(body)
    // admitted or replayed just now, so the task is there: a replay streams the first task's log from the start
    openStream(dp, reply, dp.task(body.task_id)!, 0, cancelOnDisconnect)
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
    openStream(dp, reply, task, resumeFrom(req.headers['last-event-id']), req.query.cancel_on_disconnect ?? false)
  })

  app.post('/tasks/:id/cancel', {
    schema: { tags: ['data plane'], summary: 'Cancel a task (idempotent)', params: TaskParams, response: { 204: Empty, 400: ErrorEnvelope } },
  }, async (req, reply) => {
    dp.cancel(req.params.id)
    return reply.code(204).send(null)
  })
}
