import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { createKeyMatch, pathOf, PUBLIC_PATHS } from './gate.js'
import type { AuthConfig } from './schema.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is asking, for per-client limits (ORCH-3006): `key:<n>` (the index of the configured
     * key it authenticated with, never the key) when the gate is on, `ip:<address>` otherwise.
     * A header the gate did not check never names the client, so a client cannot mint itself
     * a fresh identity by sending a new `X-API-Key` (issue 10 #6).
     */
    apiClient: string
  }
}

/** The key a request presents: `X-API-Key`, else `Authorization: Bearer <key>` (what OpenAI clients send); '' for none. */
function presentedKey (headers: Record<string, string | string[] | undefined>): string {
  const x = headers['x-api-key']
  const key = Array.isArray(x) ? x[0] : x
  if (key !== undefined && key !== '') return key
  const auth = headers.authorization
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(Array.isArray(auth) ? auth[0] ?? '' : auth ?? '')
  return bearer?.[1] ?? ''
}

/**
 * The optional API-key gate (spec api-and-core.md §1.3, decision 11, D1). With no keys
 * configured it only names each request's client by its address. With keys: a request without
 * a key (`X-API-Key`, or `Authorization: Bearer`, issue 11) gets 401, a wrong key 403, both with an empty body; `/metrics`, `/healthz` and
 * `/readyz` stay public. It runs after the correlation hook, so refusals still carry
 * X-Correlation-Id. Keys are never logged.
 */
const authPlugin: FastifyPluginAsync<Partial<AuthConfig>> = async (app, opts) => {
  const keys = opts.api_keys ?? []
  app.decorateRequest('apiClient', '')
  if (keys.length === 0) {
    app.addHook('onRequest', async (req) => { req.apiClient = `ip:${req.ip}` })
    return
  }
  const match = createKeyMatch(keys)
  app.addHook('onRequest', async (req, reply) => {
    req.apiClient = `ip:${req.ip}`
    if (PUBLIC_PATHS.has(pathOf(req.url))) return
    const given = presentedKey(req.headers)
    if (given === '') return reply.code(401).send()
    const index = match(given)
    if (index === -1) return reply.code(403).send()
    req.apiClient = `key:${index}`
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

export { createKeyCheck, createKeyMatch } from './gate.js'
