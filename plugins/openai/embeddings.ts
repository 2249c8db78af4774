import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { OpenAiError } from './errors.js'
import { admitAndCollect } from './run.js'
import type { EmbeddingsRequest } from './schema.js'

/**
 * `POST /v1/embeddings` (openai-compat.md §1): the inputs become one `embedding` task, queued
 * and placed like any other, run by the pool's engine (the embedded worker, llama-server with
 * `--embeddings`, vLLM, OpenAI); an engine that does not embed refuses it at admission (400
 * naming the workload). Vectors come back as floats, or base64 of little-endian float32 (what
 * the official SDKs ask for by default).
 */
const base64 = (v: readonly number[]): string => Buffer.from(new Float32Array(v).buffer).toString('base64')

export async function embed (app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, body: EmbeddingsRequest): Promise<unknown> {
  if (body.dimensions != null) {
    const message = 'dimensions cannot be honoured: vectors have the model\'s own size; leave it out'
    throw new OpenAiError(400, message, { param: 'dimensions', code: 'unsupported_value' })
  }
  const inputs = typeof body.input === 'string' ? [body.input] : body.input
  const { usage, end } = await admitAndCollect(app, req, reply, { model: body.model, user: body.user, max_tokens: 1, workload: 'embedding' }, { inputs })
  const vectors = end.embeddings as number[][] | undefined
  if (vectors?.length !== inputs.length) throw new OpenAiError(500, 'the engine ended the embedding task without its vectors', { code: 'internal_error' })
  const asBase64 = body.encoding_format === 'base64'
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: asBase64 ? base64(v) : v })),
    model: body.model,
    usage: { prompt_tokens: usage.prompt_tokens, total_tokens: usage.prompt_tokens },
  }
}
