import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { COMPLETION_RULES, refuseUnhonoured, samplingOf } from './honour.js'
import { answerJson, answerStream, type Shape, type TaskPart } from './run.js'
import type { CompletionRequest } from './schema.js'

/** OpenAI's default `max_tokens` for legacy completions. */
export const DEFAULT_COMPLETION_TOKENS = 16

/** OpenAI's `stop` (a string or up to 4) as the task's list; an empty one is no stop. */
export function stopOf (stop: string | string[] | null | undefined): string[] {
  return typeof stop === 'string' ? [stop] : stop ?? []
}

const shape: Shape = {
  idPrefix: 'cmpl',
  body: (text, finish) => ({ object: 'text_completion', choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] }),
  chunkObject: 'text_completion',
  delta: (text) => ({ text, index: 0, logprobs: null, finish_reason: null }),
  closing: (finish) => ({ text: '', index: 0, logprobs: null, finish_reason: finish }),
}

/** `POST /v1/completions`, streamed or not. */
export async function complete (app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, body: CompletionRequest): Promise<unknown> {
  refuseUnhonoured(body, COMPLETION_RULES)
  const part: TaskPart = {
    model: body.model,
    user: body.user,
    max_tokens: body.max_tokens ?? DEFAULT_COMPLETION_TOKENS,
    seed: body.seed,
    stop: stopOf(body.stop),
    sampling: samplingOf(body),
  }
  const input = { prompt: Array.isArray(body.prompt) ? body.prompt[0] : body.prompt }
  if (body.stream === true) return answerStream(app, req, reply, part, input, shape, body.stream_options?.include_usage === true)
  return await answerJson(app, req, reply, part, input, shape)
}
