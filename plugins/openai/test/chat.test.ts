import t from 'tap'
import OpenAI from 'openai'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

// Issue 11: `POST /v1/chat/completions` with the official SDK on fixture F0 (mock llama.cpp
// adapter, which declares chat like the real one).
const client = (base: string): OpenAI => new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0, timeout: 10_000 })

t.test('issue 11: a chat is a task whose messages reach the engine; answer, finish_reason and usage in OpenAI\'s shape', async (t) => {
  const h = await f0(t, { mock: { tokens: ['4', '5', '6'] } })
  const res = await client(h.base).chat.completions.create({
    model: 'model0',
    messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Count: ' }, { type: 'text', text: '3' }] }],
    max_completion_tokens: 3,
    temperature: 0,
  })
  t.match(res, { object: 'chat.completion', model: 'model0', id: /^chatcmpl-/ })
  t.same(res.choices[0], { index: 0, message: { role: 'assistant', content: '456', refusal: null }, logprobs: null, finish_reason: 'length' })
  t.same(res.usage, { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 })
  const task = h.app.dataplane.task(res.id.replace(/^chatcmpl-/, ''))!
  t.same(task.req.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Count: 3' }],
    'developer is the system turn; text parts joined')
  t.equal(task.req.prompt, undefined, 'a chat task carries messages, not a prompt')
})

t.test('issue 11: a streamed chat opens with the role, sends content deltas, closes with finish_reason, then usage', async (t) => {
  const h = await f0(t, { mock: { tokens: ['a', 'b'] } })
  const stream = await client(h.base).chat.completions.create({
    model: 'model0', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true, stream_options: { include_usage: true },
  })
  const chunks: OpenAI.ChatCompletionChunk[] = []
  for await (const c of stream) chunks.push(c)
  t.same(chunks.map((c) => c.choices[0]?.delta ?? null), [{ role: 'assistant', content: '' }, { content: 'a' }, { content: 'b' }, {}, null])
  t.equal(chunks[3]!.choices[0]!.finish_reason, 'length')
  t.same(chunks[4]!.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })
  t.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id))
})

t.test('issue 11: chat honour or reject: JSON mode, tools and sampling are refused naming the param; a chat-less engine refuses', async (t) => {
  const h = await f0(t)
  const sdk = client(h.base)
  const messages = [{ role: 'user' as const, content: 'hi' }]
  await t.rejects(sdk.chat.completions.create({ model: 'model0', messages, response_format: { type: 'json_object' } }),
    { status: 400, param: 'response_format', message: /\/sampling\/response_format is not honoured by engine llamacpp/ })
  await t.rejects(sdk.chat.completions.create({ model: 'model0', messages, response_format: { type: 'json_schema' } as never }),
    { status: 400, param: 'response_format.json_schema', message: /Missing required parameter: 'response_format.json_schema'/ })
  await t.rejects(sdk.chat.completions.create({
    model: 'model0', messages, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
  }), { status: 400, param: 'tools', message: /no tool calls yet/ })
  await t.rejects(sdk.chat.completions.create({ model: 'model0', messages, top_p: 0.5 }), { status: 400, param: 'top_p', message: /top_p 0\.5 has no effect/ })
  await t.rejects(sdk.chat.completions.create({ model: 'model0', messages, logprobs: true }), { status: 400, param: 'logprobs', message: /not reported yet/ })
  await t.rejects(sdk.chat.completions.create({ model: 'model0', messages, max_tokens: 2, max_completion_tokens: 3 }), { status: 400, param: 'max_tokens', message: /send one of them/ })
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 0)
  h.mock.release()
})

t.test('issue 11: a chat\'s response_format becomes the task\'s: json_object, or json_schema with its schema', async (t) => {
  const h = await f0(t, { mock: { honours_sampling: ['response_format', 'temperature'] } })
  const sdk = client(h.base)
  const messages = [{ role: 'user' as const, content: 'hi' }]
  const schema = { type: 'object', properties: { a: { type: 'string' } } }
  const a = await sdk.chat.completions.create({ model: 'model0', messages, response_format: { type: 'json_object' }, max_tokens: 2 })
  const b = await sdk.chat.completions.create({
    model: 'model0', messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } }, temperature: 0.5, max_tokens: 2,
  })
  const c = await sdk.chat.completions.create({ model: 'model0', messages, response_format: { type: 'text' }, max_tokens: 2 })
  const req = (id: string) => h.app.dataplane.task(id.replace(/^chatcmpl-/, ''))!.req
  t.same(req(a.id).sampling, { response_format: { type: 'json_object' } })
  t.same(req(b.id).sampling, { temperature: 0.5, response_format: { type: 'json_schema', schema } })
  t.equal(req(c.id).sampling, undefined, 'text is no constraint')
})

t.test('issue 11: a task can carry prompt or messages, not both', async (t) => {
  const h = await f0(t, { pools: [poolF0()] })
  const both = await h.post(h.task({ messages: [{ role: 'user', content: 'hi' }] }))
  t.match(both, { status: 400, json: { code: 'INVALID_PARAMS', message: /\/messages and \/prompt: send one of them/ } })
  const chat = await h.post(h.task({ prompt: undefined, messages: [{ role: 'user', content: 'hi' }] }))
  t.equal(chat.status, 202, 'messages instead of a prompt')
})
