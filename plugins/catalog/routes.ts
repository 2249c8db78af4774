import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError } from '../../sdk/api.js'
import { CatalogError } from '../../lib/catalog-store/errors.js'
import { assertModelId } from '../../lib/catalog-store/ids.js'
import { notModified } from './http-cache.js'
import { ingest, listPage, parseState, toApi } from './service.js'

const Id = Type.Object({ id: Type.String({ minLength: 1 }) })
const Signature = Type.Object({ signer: Type.String(), algo: Type.String(), verified: Type.Boolean(), timestamp_ms: Type.Integer({ minimum: 0 }) })
const TrustPolicy = Type.Object({
  mode: Type.Optional(Type.Enum(['strict', 'permissive'])),
  allowed_registries: Type.Optional(Type.Array(Type.String())),
  require_signature: Type.Optional(Type.Boolean()),
  require_sbom: Type.Optional(Type.Boolean()),
})
// no `ca_roots`: no certificate chain is checked here yet, so the strict body refuses the field
// rather than store a policy nothing enforces (issue 10 #14)
const CatalogModelBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 1024 }),
  digest: Type.String({ minLength: 1 }),
  source_url: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(Type.String())),
  manifests: Type.Optional(Type.Array(Type.Object({ digest: Type.String(), size_bytes: Type.Integer({ minimum: 0 }) }))),
  signatures: Type.Optional(Type.Array(Signature)),
  sbom: Type.Optional(Type.Object({ uri: Type.String(), digest: Type.String() })),
  trust_policy: Type.Optional(TrustPolicy),
})
const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1 })),
})
const StateBody = Type.Object({
  state: Type.String(),
  deadline_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
})
const EnginesQuery = Type.Object({ engine: Type.Optional(Type.String()), version: Type.Optional(Type.String()) })

/** Catalog failures as ErrorEnvelopes: unknown id → 404, bad input → 400, D14 conflict → 409. */
export function toApiError (err: unknown): unknown {
  if (err instanceof CatalogError) {
    if (err.kind === 'Untrusted') return new ApiError('UNTRUSTED_ARTIFACT', err.message)
    if (err.kind === 'Conflict') return new ApiError('INVALID_PARAMS', err.message, { status: 409 })
    if (err.kind === 'NotFound') return new ApiError('INVALID_PARAMS', err.message, { status: 404 })
    if (err.kind === 'InvalidEntry' || err.kind === 'PathTraversal') return new ApiError('INVALID_PARAMS', err.message)
    // the writer lock stayed taken after the in-call retries: a transient state, so retriable
    if (err.kind === 'Busy') return new ApiError('ADMISSION_REJECT', err.message, { status: 503, retry_after_ms: 1000 })
  }
  return err
}

/**
 * `/v1/catalog` (api-and-core §3.3): models CRUD, verification, lifecycle, engine builds.
 * Ids go in the path URL-encoded (`hf%3Aorg%2Frepo%2Ff.gguf`); lists page by id with an
 * opaque cursor; GETs carry a strong ETag and honour If-None-Match / If-Modified-Since.
 */
export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // what this handler throws goes on to the API context's handler, which writes the envelope
  app.setErrorHandler((err) => { throw toApiError(err) })

  app.post('/catalog/models', { schema: { body: CatalogModelBody } }, async (req, reply) => {
    const { created, entry } = await ingest(app.catalog.store, req.body, app.catalog.trustPolicy)
    reply.code(created ? 201 : 200)
    return toApi(entry)
  })

  app.get('/catalog/models', { schema: { querystring: ListQuery } }, async (req, reply) => {
    const { limit, cursor } = req.query
    const page = listPage(app.catalog.store, limit, cursor)
    const body = { items: page.items.map(toApi), next_cursor: page.next_cursor }
    const lastModified = page.items.length > 0 ? Math.max(...page.items.map((e) => e.updated_ms)) : undefined
    if (notModified(req, reply, body, lastModified, { body, cursor: cursor ?? null })) return reply
    return body
  })

  app.get('/catalog/models/:id', { schema: { params: Id } }, async (req, reply) => {
    const id = assertModelId(req.params.id, 'id (path)')
    const entry = app.catalog.get(id)
    if (entry === undefined) throw new CatalogError('NotFound', `no model ${JSON.stringify(id)} in the catalog`)
    const body = toApi(entry)
    if (notModified(req, reply, body, entry.updated_ms)) return reply
    return body
  })

  app.delete('/catalog/models/:id', { schema: { params: Id } }, async (req, reply) => {
    const id = assertModelId(req.params.id, 'id (path)')
    const res = await app.catalog.delete(id)
    if (!res.deleted) throw new CatalogError('NotFound', `no model ${JSON.stringify(id)} in the catalog`)
    if (res.artifact_error) req.log.warn({ model_id: id, error: res.artifact_error }, 'catalog entry deleted, artifact left behind')
    reply.code(204).send()
  })

  app.post('/catalog/models/:id/verify', { schema: { params: Id } }, async (req, reply) => {
    const id = assertModelId(req.params.id, 'id (path)')
    if (app.catalog.get(id) === undefined) throw new CatalogError('NotFound', `no model ${JSON.stringify(id)} in the catalog`)
    // hashing a large artifact takes a while: answer now, record the outcome on the entry
    app.catalog.verify(id).catch((err: unknown) => { req.log.warn({ err, model_id: id }, 'catalog verification failed to run') })
    reply.code(202)
    return { status: 'started' }
  })

  app.post('/catalog/models/:id/state', { schema: { params: Id, body: StateBody } }, async (req, reply) => {
    const id = assertModelId(req.params.id, 'id (path)')
    const { state, deadline_ms: deadlineMs } = req.body
    await app.catalog.setState(id, parseState(state), deadlineMs)
    reply.code(202)
    return { status: 'accepted' }
  })

  app.get('/catalog/engines', { schema: { querystring: EnginesQuery } }, async (req, reply) => {
    const filter = req.query
    const items = app.catalog.listEngines(filter)
    const body = { items }
    const lastModified = items.length > 0 ? Math.max(...items.map((e) => e.created_ms)) : undefined
    if (notModified(req, reply, body, lastModified)) return reply
    return body
  })
}
