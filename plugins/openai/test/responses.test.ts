import t from 'tap'
import OpenAI from 'openai'
import { f0 } from '../../../test/fixtures/dataplane.js'

// Issue 11: `POST /v1/responses` (stateless) with the official SDK on fixture F0 (mock llama.cpp
// adapter, which declares chat like the real one).
const client = (base: string): OpenAI => new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0, timeout: 10_000 })

t.test('issue 11: a response is a chat task: instructions as the system turn, output_text, usage, status', async (t) => {
  const h = await f0(t, { mock: { tokens: ['4', '5', '6'] } })
  const sdk = client(h.base)
  // the mock ends its script as a length stop: incomplete here (the e2e test sees a real EOS complete)
  const r = await sdk.responses.create({ model: 'model0', instructions: 'Count on.', input: 'Count: 3', max_output_tokens: 8 })
  t.match(r, { object: 'response', status: 'incomplete', model: 'model0', id: /^resp_[0-9a-f-]{36}$/, store: false, error: null })
  t.equal(r.output_text, '456', 'the SDK\'s output_text joins the message\'s output_text parts')
  t.match(r.output, [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: '456', annotations: [] }] }])
  t.same(r.usage, {
    input_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 6,
  })
  const task = h.app.dataplane.task(r.id.replace(/^resp_/, ''))!
  t.same(task.req.messages, [{ role: 'system', content: 'Count on.' }, { role: 'user', content: 'Count: 3' }])
  t.equal(task.req.max_tokens, 8)

  const cut = await sdk.responses.create({
    model: 'model0',
    input: [{ role: 'developer', content: 'x' }, { role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 'b' }] }],
    max_output_tokens: 2,
  })
  t.match(cut, { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output_text: '45' })
  t.same(h.app.dataplane.task(cut.id.replace(/^resp_/, ''))!.req.messages, [{ role: 'system', content: 'x' }, { role: 'user', content: 'ab' }])
})

t.test('issue 11: a streamed response is the Responses API\'s semantic events, numbered, ending with the final response', async (t) => {
  const h = await f0(t, { mock: { tokens: ['a', 'b'] } })
  const stream = await client(h.base).responses.create({ model: 'model0', input: 'hi', stream: true })
  const events: OpenAI.Responses.ResponseStreamEvent[] = []
  for await (const e of stream) events.push(e)
  t.same(events.map((e) => e.type), [
    'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
    'response.output_text.delta', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.incomplete',
  ])
  t.same(events.map((e) => e.sequence_number), events.map((_, i) => i))
  t.same(events.filter((e) => e.type === 'response.output_text.delta').map((e) => (e as { delta: string }).delta), ['a', 'b'])
  const last = events.at(-1) as OpenAI.Responses.ResponseIncompleteEvent
  t.match(last.response, { status: 'incomplete', usage: { output_tokens: 2 } })
  t.equal(last.response.output_text ?? (last.response.output[0] as { content: Array<{ text: string }> }).content[0]!.text, 'ab')
  t.match(events[0], { response: { status: 'in_progress', output: [] } })
})

t.test('issue 11: the SDK\'s responses.stream helper accumulates the text', async (t) => {
  const h = await f0(t, { mock: { tokens: ['x', 'y', 'z'] } })
  const stream = client(h.base).responses.stream({ model: 'model0', input: 'hi', max_output_tokens: 3 })
  let deltas = ''
  stream.on('response.output_text.delta', (e) => { deltas += e.delta })
  const final = await stream.finalResponse()
  t.equal(deltas, 'xyz')
  // the helper's snapshot: the items it was sent, their text accumulated from the deltas
  t.match(final.output, [{ type: 'message', content: [{ type: 'output_text', text: 'xyz' }] }])
})

t.test('issue 11: responses honour or reject: stored state, tools, reasoning and unknown fields are refused naming the param', async (t) => {
  const h = await f0(t)
  const sdk = client(h.base)
  await t.rejects(sdk.responses.create({ model: 'model0', input: 'x', store: true }), { status: 400, param: 'store', message: /stateless: nothing is stored/ })
  await t.rejects(sdk.responses.create({ model: 'model0', input: 'x', previous_response_id: 'resp_1' }),
    { status: 400, param: 'previous_response_id', message: /no stored response/ })
  await t.rejects(sdk.responses.create({ model: 'model0', input: 'x', tools: [{ type: 'web_search' }] }), { status: 400, param: 'tools', message: /no tool calls/ })
  await t.rejects(sdk.responses.create({ model: 'model0', input: 'x', reasoning: { effort: 'high' } }), { status: 400, param: 'reasoning', message: /reasoning/ })
  await t.rejects(sdk.responses.create({ model: 'model0', input: 'x', text: { format: { type: 'json_object' } } }),
    { status: 400, param: 'response_format', message: /\/sampling\/response_format is not honoured by engine llamacpp/ })
  await t.rejects(sdk.responses.create({ model: 'model0', input: 'x', service_tier: 'flex' }), { status: 400, param: 'service_tier', message: /Unrecognized/ })
  await t.rejects(sdk.responses.create({ model: 'model0', input: 'x', text: { format: { type: 'json_schema' } as never } }),
    { status: 400, param: 'text.format.name', message: /Missing required parameter: 'text.format.name'/ })
  await t.rejects(sdk.responses.create({ model: 'nope', input: 'x' }), { status: 404, code: 'model_not_found', message: /does not exist/ })
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 0, 'nothing refused was admitted')
  const ok = await sdk.responses.create({ model: 'model0', input: 'x', store: false, tool_choice: 'auto', truncation: 'disabled', max_output_tokens: 2 })
  t.equal(ok.status, 'incomplete', 'the values that mean what the server does are accepted')
})

t.test('issue 11: a response\'s text.format and sampling reach the task', async (t) => {
  const h = await f0(t, { mock: { honours_sampling: ['temperature', 'top_p', 'response_format'] } })
  const schema = { type: 'object', properties: { a: { type: 'string' } } }
  const r = await client(h.base).responses.create({
    model: 'model0', input: 'x', temperature: 0.5, top_p: 0.9, max_output_tokens: 2, text: { format: { type: 'json_schema', name: 's', schema } },
  })
  t.same(h.app.dataplane.task(r.id.replace(/^resp_/, ''))!.req.sampling, { temperature: 0.5, top_p: 0.9, response_format: { type: 'json_schema', schema } })
  t.match(r, { temperature: 0.5, top_p: 0.9, text: { format: { type: 'json_schema', name: 's' } } })
})

t.test('issue 11: a response stream that fails after its first token ends with response.failed carrying the error', async (t) => {
  const h = await f0(t, { mock: { tokens: ['a', 'b', 'c'], fail_after_tokens: { n: 1, kind: 'WORKER_RESET' } } })
  const stream = await client(h.base).responses.create({ model: 'model0', input: 'hi', stream: true })
  const events: OpenAI.Responses.ResponseStreamEvent[] = []
  for await (const e of stream) events.push(e)
  const last = events.at(-1) as OpenAI.Responses.ResponseFailedEvent
  t.equal(last.type, 'response.failed')
  t.match(last.response, { status: 'failed', error: { code: /./, message: /./ }, output: [{ status: 'incomplete', content: [{ text: 'a' }] }] })
  t.notOk(events.some((e) => e.type === 'response.completed' || e.type === 'response.incomplete'))
})
