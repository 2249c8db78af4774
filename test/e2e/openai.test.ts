import t from 'tap'
import OpenAI from 'openai'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { build } from '../helpers/build.js'
import { waitFor } from '../helpers/wait.js'
import { writeTinyModel } from '../../extensions/provider-embedded/tiny-file.js'
import { parseSse } from '../fixtures/dataplane.js'

// Issue 11 acceptance, black-box, against the quick-start pool (the real llama.cpp engine
// embedded through node-llama-cpp, the generated tiny model): the official `openai` SDK, and
// the native API's one-line curl. One pool serves both tests.
t.setTimeout(240_000)

t.test('issue 11 acceptance on the embedded pool', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'orc-openai-'))
  await writeTinyModel(join(root, 'tiny-successor.gguf'))
  const { app } = await build(t, {
    providers: ['embedded'],
    adapters: ['llamacpp'],
    catalog: { root },
    pools: [{
      id: 'tiny',
      engine: 'llamacpp',
      model: 'tiny-successor',
      devices: [],
      provisioning: { mode: 'embedded', compute_policy: 'cpu-only', model: { ref: 'tiny-successor.gguf' } },
      health_check: { interval_ms: 200, startup_timeout_ms: 60_000 },
    }],
  })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor('the pool to be Ready', async () => {
    const r = await request(`${base}/readyz`)
    await r.body.dump()
    return r.statusCode === 200
  }, 60_000)

  await t.test('issue 11 item 4: the one-line curl of POST /v1/tasks streams 456789 on one connection', async (t) => {
    // what curl sends: a JSON body and the one header; no ids, no engine, no limits
    const res = await request(`${base}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: '{"prompt":"Count: 3","model_ref":"tiny-successor"}',
    })
    const raw = await res.body.text()
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/event-stream/)
    t.match(res.headers.location, /^\/v1\/tasks\/[0-9a-f-]{36}\/stream$/)
    const frames = parseSse(raw)
    t.equal(frames.filter((f) => f.event === 'token').map((f) => f.json.t).join(''), '456789')
    t.same(frames.map((f) => f.event).filter((e) => e !== 'metrics'), ['started', 'token', 'token', 'token', 'token', 'token', 'token', 'end'])
    t.match(frames.at(-1)!.json, { tokens_out: 6 })
    const pools = await request(`${base}/v1/pools`)
    t.match(JSON.parse(await pools.body.text()), { items: [{ id: 'tiny', engine: 'llamacpp', model: 'tiny-successor', ready: true, ctx_max: 2048 }] },
      'GET /v1/pools names the model_ref the pool answers to')
  })

  await t.test('issue 11: the openai SDK: models, a greedy completion, stop, a stream with usage, a chat', async (t) => {
    const sdk = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0 })

    const models = await sdk.models.list()
    t.match(models.data, [{ id: 'tiny-successor', object: 'model', owned_by: 'llama-orch', ready: true, pools: ['tiny'] }])

    const done = await sdk.completions.create({ model: 'tiny-successor', prompt: 'Count: 3', temperature: 0 })
    t.equal(done.choices[0]!.text, '456789')
    t.equal(done.choices[0]!.finish_reason, 'stop', 'the model ended the text itself')
    t.equal(done.usage!.completion_tokens, 6)
    t.ok(done.usage!.prompt_tokens > 0, 'the engine counted the prompt')
    t.equal(done.usage!.total_tokens, done.usage!.prompt_tokens + 6)

    const short = await sdk.completions.create({ model: 'tiny-successor', prompt: 'Count: 3', max_tokens: 2 })
    t.same([short.choices[0]!.text, short.choices[0]!.finish_reason], ['45', 'length'], 'max_tokens reached: length')

    const stopped = await sdk.completions.create({ model: 'tiny-successor', prompt: 'Count: 3', stop: ['7'] })
    t.same([stopped.choices[0]!.text, stopped.choices[0]!.finish_reason], ['456', 'stop'], 'the engine stopped before the stop sequence')

    const stream = await sdk.completions.create({ model: 'tiny-successor', prompt: 'Count: 3', stream: true, stream_options: { include_usage: true } })
    let text = ''
    let usage: OpenAI.CompletionUsage | null | undefined
    for await (const c of stream) {
      text += c.choices[0]?.text ?? ''
      if (c.usage) usage = c.usage
    }
    t.equal(text, '456789')
    t.same(usage, done.usage, 'the usage chunk counts what the non-streamed answer counted')

    // a chat: the embedded engine renders it with the GGUF's own ChatML template, then continues it
    const messages = [{ role: 'system' as const, content: 'Count on.' }, { role: 'user' as const, content: 'Count: 3' }]
    const chat = await sdk.chat.completions.create({ model: 'tiny-successor', messages, max_completion_tokens: 8 })
    const worker = new URL(app.pool.manager('tiny')!.current!.prepared.health.url).origin
    const rendered = await request(`${worker}/apply-template`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages }),
    })
    const { prompt } = await rendered.body.json() as { prompt: string }
    t.equal(prompt, '<|im_start|>system\nCount on.<|im_end|>\n<|im_start|>user\nCount: 3<|im_end|>\n<|im_start|>assistant\n',
      'the model\'s template, as llama-server renders it')
    const same = await sdk.completions.create({ model: 'tiny-successor', prompt, max_tokens: 8 })
    t.equal(chat.choices[0]!.message.content, same.choices[0]!.text, 'the chat answer is the completion of the rendered chat')
    t.equal(chat.choices[0]!.finish_reason, same.choices[0]!.finish_reason)
    t.equal(chat.usage!.prompt_tokens, same.usage!.prompt_tokens, 'the template\'s special tokens counted once, as tokens')
    t.comment(`chat answer: ${JSON.stringify(chat.choices[0]!.message.content)} (${chat.choices[0]!.finish_reason})`)
  })

  await t.test('issue 11 item 2: sampling reaches the embedded engine: logit_bias, JSON mode and a schema, seeded temperature', async (t) => {
    const sdk = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0 })
    // the tiny model's byte tokens: id 52 is '4', so banning it moves the greedy path off 456789
    const biased = await sdk.completions.create({ model: 'tiny-successor', prompt: 'Count: 3', logit_bias: { 52: -100 }, max_tokens: 8 })
    t.not(biased.choices[0]!.text[0], '4', `banned '4': ${JSON.stringify(biased.choices[0]!.text)}`)

    const messages = [{ role: 'user' as const, content: 'Count: 3' }]
    const json = await sdk.chat.completions.create({ model: 'tiny-successor', messages, response_format: { type: 'json_object' }, max_tokens: 40 })
    t.type(JSON.parse(json.choices[0]!.message.content!), 'object', `json_object: ${json.choices[0]!.message.content}`)
    const schema = { type: 'object', properties: { colour: { enum: ['red', 'blue'] } }, required: ['colour'], additionalProperties: false }
    const shaped = await sdk.chat.completions.create({
      model: 'tiny-successor', messages, response_format: { type: 'json_schema', json_schema: { name: 'c', schema } }, max_tokens: 40,
    })
    t.match(JSON.parse(shaped.choices[0]!.message.content!), { colour: /^(red|blue)$/ })
    t.equal(shaped.choices[0]!.finish_reason, 'stop')

    const body = { model: 'tiny-successor', prompt: 'Count: 3', temperature: 1.5, top_k: 0, max_tokens: 8 }
    const sampled = (seed: number) => sdk.completions.create({ ...body, seed } as OpenAI.CompletionCreateParamsNonStreaming)
    t.equal((await sampled(7)).choices[0]!.text, (await sampled(7)).choices[0]!.text, 'seeded sampling is reproducible')
    await t.rejects(sdk.completions.create({ model: 'tiny-successor', prompt: 'x', top_p: 0.5 }), { status: 400, param: 'top_p', message: /no effect with greedy decoding/ }, 'greedy with top_p: refused')
  })

  await t.test('issue 11: the stateless Responses API on the real engine: the same chat task as chat completions, streamed too', async (t) => {
    const sdk = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0 })
    const chat = await sdk.chat.completions.create({
      model: 'tiny-successor', messages: [{ role: 'system', content: 'Count on.' }, { role: 'user', content: 'Count: 3' }], max_tokens: 16,
    })
    const r = await sdk.responses.create({ model: 'tiny-successor', instructions: 'Count on.', input: 'Count: 3', max_output_tokens: 16 })
    t.equal(r.output_text, chat.choices[0]!.message.content, 'the same chat task as chat completions')
    t.equal(r.status, chat.choices[0]!.finish_reason === 'stop' ? 'completed' : 'incomplete')
    t.equal(r.usage!.input_tokens, chat.usage!.prompt_tokens)
    const stream = sdk.responses.stream({ model: 'tiny-successor', instructions: 'Count on.', input: 'Count: 3', max_output_tokens: 16 })
    const final = await stream.finalResponse()
    t.equal((final.output[0] as { content: Array<{ text: string }> }).content[0]!.text, r.output_text)
  })

  await t.test('issue 11: /v1/embeddings on the real engine: one vector per input, as base64 (the SDK default) or floats', async (t) => {
    const sdk = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0 })
    const r = await sdk.embeddings.create({ model: 'tiny-successor', input: ['hello', 'world', 'hello'] })
    t.equal(r.data.length, 3)
    t.same(r.data.map((d) => d.index), [0, 1, 2])
    t.ok(r.data.every((d) => d.embedding.length === 64), 'the model\'s embedding size (64)')
    t.same(r.data[0]!.embedding, r.data[2]!.embedding, 'the same text, the same vector')
    t.notSame(r.data[0]!.embedding, r.data[1]!.embedding)
    t.ok(r.usage.prompt_tokens > 0)
    const floats = await sdk.embeddings.create({ model: 'tiny-successor', input: 'hello', encoding_format: 'float' })
    t.same(floats.data[0]!.embedding, r.data[0]!.embedding, 'floats and base64 carry the same float32 values')
    // the native API: an embedding task, streamed on one connection, its vectors in the end frame
    const native = await request(`${base}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ model_ref: 'tiny-successor', workload: 'embedding', inputs: ['hello'] }),
    })
    const end = parseSse(await native.body.text()).find((f) => f.event === 'end')
    t.same((end?.json as { embeddings?: number[][] } | undefined)?.embeddings, [floats.data[0]!.embedding], 'the same vector through /v1/tasks')
    await t.rejects(sdk.embeddings.create({ model: 'tiny-successor', input: 'x', dimensions: 8 }), { status: 400, param: 'dimensions', message: /model's own size/ })
  })
})
