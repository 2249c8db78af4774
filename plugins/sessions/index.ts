import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Value } from 'typebox/value'
import { NAMES } from '../../lib/names.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import { SessionsConfig } from './schema.js'
import { createSessionStore, type SessionStore } from './store.js'

declare module 'fastify' {
  interface FastifyInstance { sessions: SessionStore }
}

export interface SessionsOptions extends Partial<SessionsConfig> { clock?: Clock }

/**
 * Sessions (spec api-and-core.md §2.5) as `app.sessions`: TTL, turns, budgets, kv_warmth and
 * the affine replica of each session. A session that goes, deleted or expired, asks the
 * replica holding its KV to free it (§2.4) through the adapter host. The data plane's sweep
 * expires sessions; the routes are `GET` and `DELETE /v1/sessions/{id}`.
 */
const sessionsPlugin: FastifyPluginAsync<SessionsOptions> = async (app, opts) => {
  const { clock = systemClock, ...rest } = opts
  const config = Value.Default(SessionsConfig, Value.Clone(rest)) as SessionsConfig
  app.decorate('sessions', createSessionStore(config, clock, (id, s) => {
    if (s.affinity) void app.adapterHost.freeSession(s.affinity.poolId, id, s.affinity.replicaId)
  }))
}

export default fp(sessionsPlugin, {
  name: NAMES.sessions,
  fastify: '5.x',
  dependencies: [NAMES.adapters],
  decorators: { fastify: ['adapterHost'] },
})

export type { SessionsConfig } from './schema.js'
export type { Session, SessionStore, SessionInfo, Reservation, Budgets } from './store.js'
