import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DEFAULT_CHAT_TOKENS } from './chat.js'
import { missingParam, type OpenAiError } from './errors.js'
import { refuseUnhonoured, RESPONSES_RULES, samplingOf } from './honour.js'
import type { ResponsesRequest } from './responses-schema.js'
import { admitAndCollect, admitAndFollow, now, openSse, type FinishReason, type TaskPart, type Usage } from './run.js'

/**
 * `POST /v1/responses`, stateless (openai-compat.md §1): the input (and `instructions`, as the
 * system turn) becomes a chat task, rendered by the engine with the model's own template; the
 * answer is one `message` output item of `output_text`. Streamed, it is the Responses API's
 * semantic events (`response.created` … `response.output_text.delta` … `response.completed`),
 * each with its `sequence_number`. The response id is `resp_<task id>`.
 */
type Item = Exclude<ResponsesRequest['input'], string>[number]

const taskMessage = (m: Item): { role: 'system' | 'user' | 'assistant', content: string } => ({
  role: m.role === 'developer' ? 'system' : m.role,
  content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
})

function messagesOf (body: ResponsesRequest): Array<{ role: 'system' | 'user' | 'assistant', content: string }> {
  const input = typeof body.input === 'string' ? [{ role: 'user' as const, content: body.input }] : body.input.map(taskMessage)
  return body.instructions != null && body.instructions !== '' ? [{ role: 'system', content: body.instructions }, ...input] : input
}

/** The Responses API's `text.format` in the chat dialect `samplingOf` reads. */
function responseFormat (body: ResponsesRequest): Parameters<typeof samplingOf>[0]['response_format'] {
  const f = body.text?.format
  if (f === undefined || f.type === 'text') return undefined
  if (f.type === 'json_object') return { type: 'json_object' }
  for (const k of ['name', 'schema'] as const) {
    if (f[k] === undefined) throw missingParam(`text.format.${k}`)
  }
  return { type: 'json_schema', json_schema: { name: f.name!, schema: f.schema! } }
}

interface Outcome { status: 'in_progress' | 'completed' | 'incomplete' | 'failed', text: string, usage?: Usage, error?: OpenAiError }

/** The response object, as it stands at `outcome`. */
function responseObject (id: string, at: number, body: ResponsesRequest, messageId: string, o: Outcome): Record<string, unknown> {
  const itemStatus = o.status === 'in_progress' ? 'in_progress' : o.status === 'failed' ? 'incomplete' : 'completed'
  const message = { type: 'message', id: messageId, status: itemStatus, role: 'assistant', content: [outputText(o.text)] }
  return {
    id,
    object: 'response',
    created_at: at,
    status: o.status,
    error: o.error ? { code: o.error.code ?? 'server_error', message: o.error.message } : null,
    incomplete_details: o.status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? DEFAULT_CHAT_TOKENS,
    model: body.model,
    output: o.status === 'in_progress' ? [] : [message],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: body.temperature ?? 0,
    text: { format: body.text?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'none',
    tools: [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: o.usage
      ? {
          input_tokens: o.usage.prompt_tokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: o.usage.completion_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: o.usage.total_tokens,
        }
      : null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  }
}

const outputText = (text: string): Record<string, unknown> => ({ type: 'output_text', text, annotations: [], logprobs: [] })
const statusOf = (finish: FinishReason): 'completed' | 'incomplete' => finish === 'length' ? 'incomplete' : 'completed'

export async function respond (app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, body: ResponsesRequest): Promise<unknown> {
  refuseUnhonoured(body, RESPONSES_RULES)
  const part: TaskPart = {
    model: body.model,
    user: body.user,
    max_tokens: body.max_output_tokens ?? DEFAULT_CHAT_TOKENS,
    sampling: samplingOf({ temperature: body.temperature, top_p: body.top_p, response_format: responseFormat(body) }),
  }
  const input = { messages: messagesOf(body) }
  return body.stream === true ? streamResponse(app, req, reply, part, input, body) : await jsonResponse(app, req, reply, part, input, body)
}

async function jsonResponse (
  app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, part: TaskPart, input: Record<string, unknown>, body: ResponsesRequest
): Promise<Record<string, unknown>> {
  const { task, text, finish, usage } = await admitAndCollect(app, req, reply, part, input)
  return responseObject(`resp_${task.id}`, now(), body, `msg_${task.id.replaceAll('-', '')}`, { status: statusOf(finish), text, usage })
}

function streamResponse (
  app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, part: TaskPart, input: Record<string, unknown>, body: ResponsesRequest
): void {
  const res = reply.raw
  const at = now()
  let seq = 0
  let id = ''
  let item = ''
  let text = ''
  const event = (type: string, data: Record<string, unknown>): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`)
  }
  const where = (): Record<string, unknown> => ({ item_id: item, output_index: 0, content_index: 0 })
  const snapshot = (o: Outcome): Record<string, unknown> => responseObject(id, at, body, item, o)
  admitAndFollow(app, req, reply, part, input, {
    token: (t) => {
      text += t
      event('response.output_text.delta', { ...where(), delta: t, logprobs: [] })
    },
    end: (finish, usage) => {
      const final = snapshot({ status: statusOf(finish), text, usage })
      event('response.output_text.done', { ...where(), text, logprobs: [] })
      event('response.content_part.done', { ...where(), part: outputText(text) })
      event('response.output_item.done', { output_index: 0, item: (final.output as unknown[])[0] })
      event(finish === 'length' ? 'response.incomplete' : 'response.completed', { response: final })
      res.end()
    },
    error: (e) => {
      event('response.failed', { response: snapshot({ status: 'failed', text, error: e }) })
      res.end()
    },
  }, (task) => {
    id = `resp_${task.id}`
    item = `msg_${task.id.replaceAll('-', '')}`
    openSse(req, reply)
    const opening = snapshot({ status: 'in_progress', text: '' })
    event('response.created', { response: opening })
    event('response.in_progress', { response: opening })
    event('response.output_item.added', { output_index: 0, item: { type: 'message', id: item, status: 'in_progress', role: 'assistant', content: [] } })
    event('response.content_part.added', { ...where(), part: outputText('') })
  })
}
