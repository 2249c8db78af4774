import t from 'tap'
import type { Test } from 'tap'
import { collect, taskRequest } from '../../../test/helpers/adapter-conformance.js'
import { kitAdapter, OPENAI_TEST_KEY } from '../../../test/helpers/conformance-targets.js'
import { fakeOpenAi, OPENAI_FINGERPRINT } from '../../../test/fixtures/engines/openai-compat.js'
import { FakeEngine } from '../../../test/fixtures/engines/fake-engine.js'
import { fakeVector } from '../../../test/fixtures/engines/embeddings.js'
import { OPENAI_SAMPLING, OpenAiOptions, openAiProtocol } from '../openai.js'

const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function setup (t: Test, options: Record<string, unknown>, env?: Record<string, string>) {
  const fake = await fakeOpenAi({ key: OPENAI_TEST_KEY })
  const saved = { ...process.env }
  Object.assign(process.env, env)
  const { adapter, close } = kitAdapter('openai', OpenAiOptions, openAiProtocol, { model: 'gpt-fake', ...options })(fake.url, {}, () => {})
  t.teardown(async () => { process.env = saved; await close(); await fake.close() })
  return { fake, adapter }
}

t.test('chat body: max_completion_tokens, temperature 0, top_p 1, seed; headers carry key, organization, project', async (t) => {
  const { fake, adapter } = await setup(t, { api_key: OPENAI_TEST_KEY, organization: 'org-1', project: 'proj-1' })
  const events = await collect(adapter.submit(taskRequest('openai', { prompt: 'hi', max_tokens: 4 }), opts()))
  const hit = fake.hits('/chat/completions')[0]!
  t.match(hit.body, { model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 4, stream: true, temperature: 0, top_p: 1 })
  t.match(hit.headers, { authorization: `Bearer ${OPENAI_TEST_KEY}`, 'openai-organization': 'org-1', 'openai-project': 'proj-1' })
  t.match(events.find((e) => e.kind === 'metrics'), { data: { system_fingerprint: OPENAI_FINGERPRINT } })
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'length', tokens_out: 4 } })
  t.match(events[0], { data: { engine_version: 'gpt-fake' } })
})

t.test('legacy completions; the key from the environment variable named in the options', async (t) => {
  const { fake, adapter } = await setup(t, { api: 'completions', api_key_env: 'ORC_TEST_OPENAI_KEY' }, { ORC_TEST_OPENAI_KEY: OPENAI_TEST_KEY })
  const events = await collect(adapter.submit(taskRequest('openai', { prompt: 'hi' }), opts()))
  t.match(fake.hits('/completions')[0]!.body, { prompt: 'hi', max_tokens: 64 })
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'stop' } })
  t.same(await adapter.props(), { slots_total: null, slots_free: null, ctx_max: null, engine_version: 'gpt-fake' })
})

t.test('a wrong key: 401 → ADAPTER, no retry, health not ready; the key is never in any error (scenario 12)', async (t) => {
  const wrong = 'sk-wrong-canary-987654'
  const { fake, adapter } = await setup(t, { api_key: wrong, health_cache_ms: 60_000 })
  const events = await collect(adapter.submit(taskRequest('openai'), opts()))
  t.match(events, [{ kind: 'error', data: { kind: 'ADAPTER', retriable: false, upstream_status: 401, message: /Incorrect API key provided.*x-request-id req_fake123/ } }])
  t.equal(fake.hits('/chat/completions').length, 1)
  const before = fake.hits('/models/gpt-fake').length
  t.same(await adapter.health(), { live: true, ready: false })
  t.same(await adapter.health(), { live: true, ready: false }, 'cached')
  t.equal(fake.hits('/models/gpt-fake').length - before, 1, 'the cached answer saves a call')
  await t.rejects(adapter.engineVersion(), /answered 401/)
  const text = JSON.stringify(events)
  t.notMatch(text, /wrong-canary|987654|sk-wro\*/)
})

t.test('no key at all, an unknown model: health reports live but not ready; a version falls back to the model id', async (t) => {
  const fake = await fakeOpenAi()
  const { adapter, close } = kitAdapter('openai', OpenAiOptions, openAiProtocol, {
    model: 'nope',
    api_key_env: 'ORC_UNSET_VAR_X',
    health_cache_ms: 0,
  })(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  t.same(await adapter.health(), { live: true, ready: false })
  t.notOk(fake.requests[0]!.headers.authorization)
  t.match(await adapter.capabilities!(), { engine_version: 'nope', features: { remote: true } })
  const bare = await fakeOpenAi()
  const b = kitAdapter('openai', OpenAiOptions, openAiProtocol, { model: 'gpt-fake', base_url: `${bare.url}/` })('', {}, () => {})
  t.teardown(async () => { await b.close(); await bare.close() })
  t.equal(await b.adapter.engineVersion(), 'gpt-fake', 'base_url wins over the replica URL')
  const events = await collect(b.adapter.submit({ ...taskRequest('openai'), prompt: undefined, inputs: ['x', 'y'] } as never, opts()))
  t.equal(bare.hits('/chat/completions')[0]!.body.messages[0].content, 'x\ny')
  t.match(events.at(-1), { kind: 'end' })
})

t.test('defaults: the OpenAI base URL and the pool model; the built-in loads only when listed', async (t) => {
  const { bindingFor } = await import('../../../test/helpers/conformance-targets.js')
  const { Value } = await import('typebox/value')
  const { OPENAI_BASE_URL } = await import('../index.js')
  const options = Value.Default(OpenAiOptions, {}) as never
  const p = openAiProtocol({ ...bindingFor('openai', ''), baseUrl: '' }, options, { client: {} as never, http: {} as never })
  t.equal(p.baseUrl, OPENAI_BASE_URL)
  t.match(
    (await p.open({ ...taskRequest('openai'), prompt: undefined } as never, { seed: 1, profile: 'v1', strict: false })).body,
    { model: 'tiny', messages: [{ content: '' }] }
  )
  const { build } = await import('../../../test/helpers/build.js')
  const without = await build(t, { adapters: ['llamacpp'] })
  t.notOk(without.app.adapters.get('openai'), 'not listed: not loaded')
  const { app } = await build(t, { adapters: [{ package: 'openai', options: { base_url: 'https://api.example.test/v1', api_key: OPENAI_TEST_KEY } }] })
  t.same(app.adapters.engines(), ['openai'])
})

t.test('Responses API: body with input and max_output_tokens (no seed); incomplete at the limit is length; usage counts', async (t) => {
  const { fake, adapter } = await setup(t, { api_key: OPENAI_TEST_KEY, api: 'responses' })
  const events = await collect(adapter.submit(taskRequest('openai', { prompt: 'hi there', max_tokens: 2 }), opts()))
  const body = fake.hits('/responses')[0]!.body
  t.same(body, { model: 'gpt-fake', input: 'hi there', max_output_tokens: 2, stream: true, temperature: 0, top_p: 1 })
  t.same(events.filter((e) => e.kind === 'token').map((e) => e.data), [{ t: 'Hel', i: 0 }, { t: 'lo', i: 1 }])
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'length', tokens_out: 2, tokens_in: 2 } })
})

t.test('Responses API: response.failed and other incomplete reasons', async (t) => {
  const send = (events: Array<Record<string, unknown>>) => (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end(events.map((e, i) => `event: ${String(e.type)}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}\n\n`).join(''))
  }
  const delta = { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x' }
  const fake = await FakeEngine.start({
    'POST /failed/responses': send([
      { type: 'response.created', response: { status: 'in_progress' } },
      delta,
      { type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'The model failed' } } },
    ]),
    'POST /filtered/responses': send([
      delta,
      {
        type: 'response.incomplete',
        response: { status: 'incomplete', incomplete_details: { reason: 'content_filter' }, usage: { input_tokens: 3, output_tokens: 1 } },
      },
    ]),
  })
  t.teardown(() => fake.close())
  const run = async (path: string) => {
    const { adapter, close } = kitAdapter('openai', OpenAiOptions, openAiProtocol, {
      model: 'gpt-fake',
      api: 'responses',
      base_url: `${fake.url}/${path}`,
    })(fake.url, {}, () => {})
    t.teardown(close)
    return collect(adapter.submit(taskRequest('openai'), opts()))
  }
  t.match((await run('failed')).at(-1), { kind: 'error', data: { kind: 'ADAPTER', message: /failed response: The model failed \(server_error\)/ } })
  const filtered = await run('filtered')
  t.match(filtered.find((e) => e.kind === 'metrics'), { data: { incomplete_reason: 'content_filter' } })
  t.match(filtered.at(-1), { kind: 'end', data: { stop_reason: 'stop', tokens_out: 1, tokens_in: 3 } })
})

t.test('issue 11: stop sequences go to OpenAI chat and completions as `stop`; the Responses API takes none and says so', async (t) => {
  const { fake, adapter } = await setup(t, { api_key: OPENAI_TEST_KEY })
  await collect(adapter.submit(taskRequest('openai', { prompt: 'hi', max_tokens: 4, stop: ['x'] }), opts()))
  t.same(fake.hits('/chat/completions')[0]!.body.stop, ['x'])
  t.match(await adapter.capabilities!(), { features: { stop: true } })
  const responses = await setup(t, { api_key: OPENAI_TEST_KEY, api: 'responses' })
  t.match(await responses.adapter.capabilities!(), { features: { stop: false } })
})

t.test('issue 11: sampling reaches OpenAI per API (OPENAI_SAMPLING): chat with response_format, completions without, Responses 2 params', async (t) => {
  const sampling = { temperature: 0.7, top_p: 0.9, presence_penalty: 0.5, frequency_penalty: 0.25, logit_bias: { 9: -100 } }
  const chat = await setup(t, { api_key: OPENAI_TEST_KEY })
  await collect(chat.adapter.submit(taskRequest('openai', {
    prompt: 'hi', max_tokens: 4, sampling: { ...sampling, response_format: { type: 'json_object' } },
  }), opts()))
  t.match(chat.fake.hits('/chat/completions')[0]!.body, { ...sampling, response_format: { type: 'json_object' } })
  t.same((await chat.adapter.capabilities!()).features?.sampling, OPENAI_SAMPLING.chat)
  t.ok(OPENAI_SAMPLING.chat.includes('response_format') && !OPENAI_SAMPLING.chat.includes('top_k'), 'OpenAI has no top_k')

  const legacy = await setup(t, { api_key: OPENAI_TEST_KEY, api: 'completions' })
  await collect(legacy.adapter.submit(taskRequest('openai', { prompt: 'hi', max_tokens: 4, sampling }), opts()))
  t.match(legacy.fake.hits('/completions')[0]!.body, sampling)
  t.same((await legacy.adapter.capabilities!()).features?.sampling, OPENAI_SAMPLING.completions)
  t.notOk(OPENAI_SAMPLING.completions.includes('response_format'), 'legacy completions have no JSON mode')

  const responses = await setup(t, { api_key: OPENAI_TEST_KEY, api: 'responses' })
  await collect(responses.adapter.submit(taskRequest('openai', { prompt: 'hi', max_tokens: 4, sampling: { temperature: 0.5, top_p: 0.8 } }), opts()))
  t.match(responses.fake.hits('/responses')[0]!.body, { temperature: 0.5, top_p: 0.8 })
  t.same((await responses.adapter.capabilities!()).features?.sampling, ['temperature', 'top_p'])
})

t.test('issue 11: an embedding task goes to OpenAI\'s /embeddings with the key and the model', async (t) => {
  const { fake, adapter } = await setup(t, { api_key: OPENAI_TEST_KEY })
  const events = await collect(adapter.submit(taskRequest('openai', { workload: 'embedding', prompt: undefined, inputs: ['hi'] }), opts()))
  t.match(fake.hits('/embeddings')[0]!, { body: { model: 'gpt-fake', input: ['hi'] }, headers: { authorization: `Bearer ${OPENAI_TEST_KEY}` } })
  t.match(events.at(-1), { kind: 'end', data: { embeddings: [fakeVector('hi')] } })
})
