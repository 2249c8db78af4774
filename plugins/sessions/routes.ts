import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Uuid } from '../../sdk/schema-helpers.js'
import { ApiError, ErrorEnvelope } from '../../sdk/api.js'

const SessionParams = Type.Object({ id: Uuid('session id') })
const Empty = Type.Null({ description: 'no body' })

export const SessionInfo = Type.Object({
  ttl_ms_remaining: Type.Integer(),
  turns: Type.Integer(),
  kv_bytes: Type.Integer(),
  kv_warmth: Type.Boolean(),
  tokens_budget_remaining: Type.Optional(Type.Integer()),
  time_budget_remaining_ms: Type.Optional(Type.Integer()),
  cost_budget_remaining: Type.Optional(Type.Number()),
})

/** `GET` and `DELETE /v1/sessions/{id}` (spec api-and-core.md §2.4, §2.5; D10: unknown or expired → 404). */
export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/sessions/:id', {
    schema: { tags: ['data plane'], summary: 'Session state', params: SessionParams, response: { 200: SessionInfo, 400: ErrorEnvelope, 404: ErrorEnvelope } },
  }, async (req) => {
    const s = app.sessions.get(req.params.id)
    if (!s) throw new ApiError('INVALID_PARAMS', `session ${req.params.id} is unknown or expired`, { status: 404 })
    return app.sessions.info(s)
  })

  // running tasks of the session go on; the store's eviction hook frees its KV
  app.delete('/sessions/:id', {
    schema: { tags: ['data plane'], summary: 'Evict a session (idempotent)', params: SessionParams, response: { 204: Empty, 400: ErrorEnvelope } },
  }, async (req, reply) => {
    app.sessions.delete(req.params.id)
    return reply.code(204).send(null)
  })
}
