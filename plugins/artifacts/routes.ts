import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ApiError } from '../../sdk/api.js'
import { ARTIFACT_KINDS, type ArtifactInput } from './store.js'

const ArtifactBody = Type.Object({
  kind: Type.Enum([...ARTIFACT_KINDS]),
  content: Type.Object({}, { additionalProperties: true }),
  tags: Type.Optional(Type.Array(Type.String())),
  parent: Type.Optional(Type.String({ minLength: 1 })),
  metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
})

/** `/v1/artifacts` (api-and-core §3.4, OC-CTRL-2065/2066): content-addressed JSON documents. */
export const artifactRoutes: FastifyPluginAsync = async (app) => {
  app.post('/artifacts', { bodyLimit: app.artifacts.bodyLimit, schema: { body: ArtifactBody } }, async (req, reply) => {
    const { kind, content, tags, parent, metadata } = req.body as ArtifactInput
    const ref = await app.artifacts.put({ kind, content, ...(tags ? { tags } : {}), ...(parent ? { parent } : {}), ...(metadata ? { metadata } : {}) })
    reply.code(201)
    return ref
  })

  app.get('/artifacts/:id', async (req) => {
    const { id } = req.params as { id: string }
    const artifact = await app.artifacts.get(id)
    if (artifact === undefined) throw new ApiError('INVALID_PARAMS', `no artifact ${JSON.stringify(id)}; ids look like sha256:<64 hex> and come from POST /v1/artifacts`, { status: 404 })
    return { parent: null, metadata: null, ...artifact }
  })
}
