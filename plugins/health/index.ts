import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'

/**
 * Process probes for supervisors and load balancers: `/healthz` answers while the process
 * serves; `/readyz` answers 200 only when every configured pool is Ready, and otherwise
 * 503 with each pool's state and last error so an operator sees what is missing.
 */
const healthPlugin: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const pools = app.pool.list().map((p) => ({ id: p.id, engine: p.engine, state: p.state, ready: p.ready, draining: p.draining, last_error: p.last_error }))
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
