import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError } from '../../sdk/api.js'
import { ARTIFACT_KINDS } from './store.js'

const ArtifactBody = Type.Object({
  kind: Type.Enum([...ARTIFACT_KINDS]),
  content: Type.Record(Type.String(), Type.Unknown()),
  tags: Type.Optional(Type.Array(Type.String())),
  parent: Type.Optional(Type.String({ minLength: 1 })),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
})

/** `/v1/artifacts` (api-and-core §3.4, OC-CTRL-2065/2066): content-addressed JSON documents. */
const ArtifactParams = Type.Object({ id: Type.String({ description: 'sha256:<64 hex>, as POST /v1/artifacts answered' }) })

export const artifactRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/artifacts', { bodyLimit: app.artifacts.bodyLimit, schema: { body: ArtifactBody } }, async (req, reply) => {
    const { kind, content, tags, parent, metadata } = req.body
    const ref = await app.artifacts.put({ kind, content, ...(tags ? { tags } : {}), ...(parent ? { parent } : {}), ...(metadata ? { metadata } : {}) })
    reply.code(201)
    return ref
  })

  app.get('/artifacts/:id', { schema: { params: ArtifactParams } }, async (req) => {
    const { id } = req.params
    const artifact = await app.artifacts.get(id)
    if (artifact === undefined) {
      throw new ApiError('INVALID_PARAMS', `no artifact ${JSON.stringify(id)}; ids look like sha256:<64 hex> and come from POST /v1/artifacts`, { status: 404 })
    }
    return { parent: null, metadata: null, ...artifact }
  })
}
