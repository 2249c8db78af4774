import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { createKeyCheck, pathOf, PUBLIC_PATHS } from './gate.js'
import type { AuthConfig } from './schema.js'

/**
 * The optional API-key gate (spec api-and-core.md §1.3, decision 11, D1). With no keys
 * configured it adds nothing. With keys: a request without `X-API-Key` gets 401, a wrong key
 * 403, both with an empty body; `/metrics`, `/healthz` and `/readyz` stay public. It runs after
 * the correlation hook, so refusals still carry X-Correlation-Id. Keys are never logged.
 */
const authPlugin: FastifyPluginAsync<Partial<AuthConfig>> = async (app, opts) => {
  const keys = opts.api_keys ?? []
  if (keys.length === 0) return
  const check = createKeyCheck(keys)
  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC_PATHS.has(pathOf(req.url))) return
    const given = req.headers['x-api-key']
    if (given === undefined || given === '') return reply.code(401).send()
    if (!check(Array.isArray(given) ? given[0] ?? '' : given)) return reply.code(403).send()
  })
  app.narration.narrate({ actor: 'orchestratord', action: 'start', target: 'auth', keys: keys.length },
    `API-key gate on with ${keys.length} key${keys.length === 1 ? '' : 's'}`)
}

export default fp(authPlugin, {
  name: NAMES.auth,
  fastify: '5.x',
  dependencies: [NAMES.narration],
  decorators: { fastify: ['narration'] },
})

export { createKeyCheck } from './gate.js'
