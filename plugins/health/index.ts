import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'

/**
 * Process probes for supervisors and load balancers: `/healthz` answers while the process
 * serves; `/readyz` answers 200 only when every configured pool is Ready, and otherwise 503.
 * Both stay public even with the API-key gate on, so `/readyz` says only what a probe needs:
 * each pool's id, state and readiness (issue 10 #12). The why (last_error, which names paths
 * and engine output) is on `GET /v1/pools/{id}/health`, behind the gate when it is on. It is
 * minimal with the gate off too: "off" does not mean loopback-only (server.host may be any
 * address), and the pool route serves the details there without a key anyway.
 */
const healthPlugin: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const pools = app.pool.list().map((p) => ({ id: p.id, state: p.state, ready: p.ready }))
    const ready = pools.every((p) => p.ready)
    reply.code(ready ? 200 : 503)
    return { ready, pools }
  })
}

export default fp(healthPlugin, {
  name: NAMES.health,
  fastify: '5.x',
  dependencies: [NAMES.pool],
  decorators: { fastify: ['pool'] },
})
