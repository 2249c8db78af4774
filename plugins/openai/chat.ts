import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { stopOf } from './completion.js'
import { OpenAiError } from './errors.js'
import { CHAT_RULES, refuseUnhonoured, samplingOf } from './honour.js'
import { answerJson, answerStream, type Shape, type TaskPart } from './run.js'
import type { ChatRequest } from './schema.js'

/**
 * `POST /v1/chat/completions` (openai-compat.md §1, §2): the messages become the task's
 * `messages`, which the pool's engine renders with the model's own chat template (never a
 * template of ours); engines that serve no chat refuse the task at admission.
 */
export const DEFAULT_CHAT_TOKENS = 512

type Message = ChatRequest['messages'][number]

/** OpenAI's roles and content parts as the task's: `developer` is the system turn, text parts are joined. */
const taskMessage = (m: Message): { role: 'system' | 'user' | 'assistant', content: string } => ({
  role: m.role === 'developer' ? 'system' : m.role,
  content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
})

const shape: Shape = {
  idPrefix: 'chatcmpl',
  body: (text, finish) => ({
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finish }],
  }),
  chunkObject: 'chat.completion.chunk',
  opening: () => ({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }),
  delta: (text) => ({ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }),
  closing: (finish) => ({ index: 0, delta: {}, logprobs: null, finish_reason: finish }),
}

export async function chat (app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, body: ChatRequest): Promise<unknown> {
  refuseUnhonoured(body, CHAT_RULES)
  if (body.max_tokens != null && body.max_completion_tokens != null && body.max_tokens !== body.max_completion_tokens) {
    throw new OpenAiError(400, 'max_tokens and max_completion_tokens differ; send one of them', { param: 'max_tokens' })
  }
  const part: TaskPart = {
    model: body.model,
    user: body.user,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_CHAT_TOKENS,
    seed: body.seed,
    stop: stopOf(body.stop),
    sampling: samplingOf(body),
  }
  const input = { messages: body.messages.map(taskMessage) }
  if (body.stream === true) return answerStream(app, req, reply, part, input, shape, body.stream_options?.include_usage === true)
  return await answerJson(app, req, reply, part, input, shape)
}
