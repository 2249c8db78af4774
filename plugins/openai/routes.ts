import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type {} from '../dataplane/index.js'
import type {} from '../pool/index.js'
import { chat } from './chat.js'
import { complete } from './completion.js'
import { OpenAiError, openAiErrorHandler } from './errors.js'
import { listModels } from './models.js'
import { respond } from './responses.js'
import { ResponsesRequest } from './responses-schema.js'
import { ChatRequest, CompletionRequest, EmbeddingsRequest, ModelParams } from './schema.js'
import { embed } from './embeddings.js'

/**
 * The OpenAI-compatible routes under `/v1` (openai-compat.md): `GET /models`, `GET /models/{id}`,
 * `POST /completions`, `POST /chat/completions` and `POST /responses` (streaming and not), `POST /embeddings`. Each is a task on the same admission
 * path as `POST /v1/tasks`; every failure is written in OpenAI's error shape.
 */
export const openaiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.setErrorHandler(openAiErrorHandler)
  const bootedAt = Math.floor(Date.now() / 1000)

  app.get('/models', { schema: { tags: ['openai'], summary: 'Models the pools serve' } }, async () =>
    ({ object: 'list', data: listModels(app, bootedAt) }))

  app.get('/models/:id', { schema: { tags: ['openai'], summary: 'One model', params: ModelParams } }, async (req) => {
    const m = listModels(app, bootedAt).find((e) => e.id === req.params.id)
    if (!m) throw new OpenAiError(404, `The model '${req.params.id}' does not exist`, { param: 'model', code: 'model_not_found' })
    return m
  })

  const completions = { tags: ['openai'], summary: 'Legacy completions on the admission queue', body: CompletionRequest }
  app.post('/completions', { schema: completions }, async (req, reply) => await complete(app, req, reply, req.body))

  const chats = { tags: ['openai'], summary: 'Chat completions on the admission queue', body: ChatRequest }
  app.post('/chat/completions', { schema: chats }, async (req, reply) => await chat(app, req, reply, req.body))

  const embeddings = { tags: ['openai'], summary: 'Embeddings on the admission queue', body: EmbeddingsRequest }
  app.post('/embeddings', { schema: embeddings }, async (req, reply) => await embed(app, req, reply, req.body))

  const responses = { tags: ['openai'], summary: 'Stateless Responses API on the admission queue', body: ResponsesRequest }
  app.post('/responses', { schema: responses }, async (req, reply) => await respond(app, req, reply, req.body))
}
