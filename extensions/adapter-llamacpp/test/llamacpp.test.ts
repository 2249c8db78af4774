import t from 'tap'
import { collect, taskRequest } from '../../../test/helpers/adapter-conformance.js'
import { bindingFor, kitAdapter } from '../../../test/helpers/conformance-targets.js'
import { fakeLlamaServer, LLAMA_BUILD } from '../../../test/fixtures/engines/llama-server.js'
import { build } from '../../../test/helpers/build.js'
import { deriveSeed } from '../../../sdk/determinism.js'
import type { Test } from 'tap'
import { FakeEngine, json } from '../../../test/fixtures/engines/fake-engine.js'
import { LLAMACPP_SAMPLING, LlamacppOptions, llamacppProtocol } from '../llamacpp.js'
import { SAMPLING_PARAMS } from '../../../sdk/sampling.js'
import { SessionSlots } from '../session-slots.js'
import type { GenerationStream } from '../../../lib/adapter-kit/protocol.js'
import { fakeVector } from '../../../test/fixtures/engines/embeddings.js'

const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function setup (
  t: Test,
  fakeOpts: Parameters<typeof fakeLlamaServer>[0] = {},
  options: Record<string, unknown> = {},
  pool: Record<string, unknown> = {}
) {
  const fake = await fakeLlamaServer(fakeOpts)
  const { adapter, close } = kitAdapter('llamacpp', LlamacppOptions, llamacppProtocol, options, pool)(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  return { fake, adapter }
}

t.test('the request body carries profile v1: greedy, the seed, cache_prompt:false when strict (scenario 14)', async (t) => {
  const { fake, adapter } = await setup(t)
  const r = taskRequest('llamacpp', { prompt: 'Count: 3', max_tokens: 7, determinism: 'strict' })
  await collect(adapter.submit(r, opts()))
  const body = fake.hits('/completion')[0]!.body
  t.match(body, {
    prompt: 'Count: 3',
    n_predict: 7,
    stream: true,
    temperature: 0,
    top_k: 1,
    top_p: 1,
    min_p: 0,
    cache_prompt: false,
    seed: deriveSeed(r.task_id),
  })
  await collect(adapter.submit(taskRequest('llamacpp', { seed: 7 }), opts()))
  const loose = fake.hits('/completion')[1]!.body
  t.equal(loose.seed, 7)
  t.notOk('cache_prompt' in loose, 'best effort leaves the prompt cache on')
})

t.test('started carries sampler_profile_version and model_digest when the pool sets them (scenario 16); end maps limit → length', async (t) => {
  const digest = `sha256:${'a'.repeat(64)}`
  const { adapter } = await setup(t, {}, {}, {
    sampler_profile_version: 'v1',
    provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1], model: { checksum: digest } },
  })
  const events = await collect(adapter.submit(taskRequest('llamacpp', { max_tokens: 2 }), opts()))
  t.match(events[0], { kind: 'started', data: { engine_version: LLAMA_BUILD, sampler_profile_version: 'v1', model_digest: digest } })
  t.match(events.find((e) => e.kind === 'metrics'), { data: { engine_prompt_ms: 1.25, engine_predicted_ms: 5.5 } })
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'length', tokens_out: 2, tokens_in: 5 } })
})

t.test('an unknown sampler profile is refused before any request (ADAPTER)', async (t) => {
  const { fake, adapter } = await setup(t)
  const events = await collect(adapter.submit(taskRequest('llamacpp', { sampler_profile_version: 'v9' }), opts()))
  t.match(events, [{ kind: 'error', data: { kind: 'ADAPTER', message: /sampler profile "v9"/ } }])
  t.equal(fake.hits('/completion').length, 0)
})

t.test('older builds: the `error:` field mid-stream, stopped_* booleans, no build_info', async (t) => {
  const { fake, adapter } = await setup(t, { errorDialect: 'field', buildInfo: false }, { engine_version: 'b4000-pinned' })
  fake.faults.errorAfter = 1
  const events = await collect(adapter.submit(taskRequest('llamacpp'), opts()))
  t.match(events[0], { kind: 'started', data: { engine_version: 'b4000-pinned' } })
  t.match(events.at(-1), { kind: 'error', data: { kind: 'ADAPTER', message: /mid-stream: engine failure/ } })
  t.equal(await adapter.engineVersion(), 'b4000-pinned')
  const bare = await setup(t, { buildInfo: false })
  await t.rejects(bare.adapter.engineVersion(), /set the llamacpp adapter option engine_version/)
})

t.test('frames in the legacy shapes: stopped_limit/stopped_word booleans, timings-only counts', async (t) => {
  const proto = llamacppProtocol(bindingFor('llamacpp', 'http://127.0.0.1:1'), { http: {} as never }, { client: {} as never, http: {} as never })
  const stream = await proto.open(taskRequest('llamacpp'), { seed: 1, profile: 'v1', strict: false }) as GenerationStream
  const ends: unknown[] = []
  const sink = { token: () => {}, metrics: () => {}, end: (i: unknown) => { ends.push(i) }, fail: () => {} }
  stream.frame('{"content":"","stop":true,"stopped_limit":true,"timings":{"predicted_n":4,"prompt_n":2}}', 'message', sink)
  stream.frame('{"content":"","stop":true,"stopped_word":true}', 'message', sink)
  stream.frame('{"content":"","stop":true,"stop_type":"none"}', 'message', sink)
  t.same(ends, [
    { stop_reason: 'length', tokens_out: 4, tokens_in: 2 },
    { stop_reason: 'stop', tokens_out: undefined, tokens_in: undefined },
    { stop_reason: 'eos', tokens_out: undefined, tokens_in: undefined },
  ])
  t.throws(() => stream.frame('[1,2', 'message', sink), SyntaxError)
  t.throws(() => stream.frame('"just a string"', 'message', sink), SyntaxError)
})

t.test('props, slots, capabilities and the metrics scrape', async (t) => {
  const { fake, adapter } = await setup(t, { slots: 2, nCtx: 4096 })
  t.same(await adapter.props(), { slots_total: 2, slots_free: 2, ctx_max: 4096, engine_version: LLAMA_BUILD })
  t.match(await adapter.capabilities!(), {
    ctx_max: 4096,
    slots_total: 2,
    engine_version: LLAMA_BUILD,
    supported_workloads: ['completion'],
    features: { streaming: true, cancel: true },
  })
  t.same(await adapter.scrapeMetrics!(), { kv_cache_usage_ratio: 0.25 })
  fake.faults.healthStatus = 503
  t.same(await adapter.health(), { live: true, ready: false })
  await t.rejects(adapter.props(), { name: 'UpstreamError', message: /answered 503: Loading model/ }, 'loading: props fail with the engine\'s answer')
  const noMetrics = await setup(t, { metrics: false })
  t.same(await noMetrics.adapter.scrapeMetrics!(), {}, '501 without --metrics: no samples')
})

t.test('/slots disabled (404) → slots_free null; /tokenize returns ids', async (t) => {
  const { fake, adapter } = await setup(t, { slotsEndpoint: false })
  const tokenize = (adapter as unknown as { tokenize (s: string): Promise<number[]> }).tokenize
  t.same(await tokenize('ab'), [97, 98])
  t.equal(fake.hits('/tokenize')[0]!.body.content, 'ab')
  t.equal((await adapter.props()).slots_free, null)
})

t.test('freeSession erases the slot that served the session, once, and never a slot another session used since (api §2.4)', async (t) => {
  const { fake, adapter } = await setup(t, { slots: 2 })
  const erases = () => fake.requests.filter((r) => r.path.startsWith('/slots/')).map((r) => r.path)
  await adapter.freeSession!('nobody')
  t.same(erases(), [], 'a session the adapter never served: no call')
  await collect(adapter.submit(taskRequest('llamacpp', { session_id: 'sa' }), opts()))
  await adapter.freeSession!('sa')
  t.same(erases(), ['/slots/0'])
  t.match(fake.requests.at(-1), { method: 'POST' })
  await adapter.freeSession!('sa')
  t.same(erases(), ['/slots/0'], 'freeing again is a no-op')
  await collect(adapter.submit(taskRequest('llamacpp', { session_id: 'sa' }), opts()))
  await collect(adapter.submit(taskRequest('llamacpp', { session_id: 'sb' }), opts())) // the fake reuses slot 0
  await adapter.freeSession!('sa')
  t.same(erases(), ['/slots/0'], 'slot 0 now holds sb: freeing sa leaves it')
  await adapter.freeSession!('sb')
  t.same(erases(), ['/slots/0', '/slots/0'])
})

t.test('an API key goes out as a bearer token and never into errors', async (t) => {
  const { fake, adapter } = await setup(t, {}, { api_key: 'sk-llama-secret-123456' })
  fake.faults.statuses.push({ status: 401, body: '{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}' })
  const events = await collect(adapter.submit(taskRequest('llamacpp'), opts()))
  t.equal(fake.hits('/completion')[0]!.headers.authorization, 'Bearer sk-llama-secret-123456')
  t.match(events, [{ kind: 'error', data: { kind: 'ADAPTER', upstream_status: 401 } }])
  t.notMatch(JSON.stringify(events), /sk-llama-secret/)
})

t.test('a 200 that is not an event stream is a malformed stream (ADAPTER)', async (t) => {
  const { adapter } = await setup(t, { jsonCompletion: true })
  t.match(await collect(adapter.submit(taskRequest('llamacpp'), opts())), [{ kind: 'error', data: { kind: 'ADAPTER', message: /content-type "application\/json", not an event stream/ } }])
})

t.test('the built-in `llamacpp` adapter loads from the manifest and serves a pool', async (t) => {
  const { app } = await build(t, {
    adapters: ['llamacpp'],
    pools: [{ id: 'l0', engine: 'llamacpp', model: 'tiny', devices: [], provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] } }],
  })
  t.same(app.adapters.engines(), ['llamacpp'])
  t.ok(app.hasPlugin('orc.adapter.llamacpp'))
})

t.test('tolerates minimal and odd answers: bare /props, a broken /slots, no kv series, pieces from /tokenize, inputs instead of prompt', async (t) => {
  const fake = await FakeEngine.start({
    'GET /props': (_q, res) => json(res, 200, { n_ctx: 512 }),
    'GET /slots': (_q, res) => { res.writeHead(200).end('not json') },
    'GET /metrics': (_q, res) => { res.writeHead(200).end('llamacpp:requests_processing 1\n') },
    'POST /tokenize': (_q, res) => json(res, 200, { tokens: [{ id: 5, piece: 'a' }] }),
    'POST /completion': (_q, res, _b, f) => f.generate(res, {
      token: (x) => `data: {"content":${JSON.stringify(x)}}\n\n`,
      final: () => 'data: {"content":"","stop":true,"stop_type":"eos"}\n\n',
      error: () => '',
    }),
  })
  const { adapter, close } = kitAdapter('llamacpp', LlamacppOptions, llamacppProtocol)(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  t.same(await adapter.props(), { slots_total: null, slots_free: null, ctx_max: 512, engine_version: null })
  t.same(await adapter.scrapeMetrics!(), {})
  t.same(await (adapter as unknown as { tokenize (s: string): Promise<number[]> }).tokenize('a'), [5])
  const events = await collect(adapter.submit(taskRequest('llamacpp', { prompt: undefined, inputs: ['a', 'b'] } as never), opts()))
  t.equal(fake.hits('/completion')[0]!.body.prompt, 'a\nb')
  t.match(events[0], { kind: 'started', data: { engine_version: 'unknown' } })
  t.match(events.at(-1), { kind: 'end', data: { tokens_out: 5, stop_reason: 'eos' } })
  const none = await FakeEngine.start({
    'POST /tokenize': (_q, res) => json(res, 200, {}),
    'POST /completion': (_q, res, _b, f) => f.generate(res, { token: () => '', final: () => '', error: () => '' }),
  })
  const b = kitAdapter('llamacpp', LlamacppOptions, llamacppProtocol)(none.url, {}, () => {})
  t.teardown(async () => { await b.close(); await none.close() })
  t.same(await (b.adapter as unknown as { tokenize (s: string): Promise<number[]> }).tokenize('a'), [])
  const empty = await collect(b.adapter.submit({ ...taskRequest('llamacpp'), prompt: undefined } as never, opts()))
  t.equal(none.hits('/completion')[0]!.body.prompt, '')
  t.match(empty.at(-1), { kind: 'error', data: { kind: 'WORKER_RESET' } }, 'EOF without a final frame')
})

t.test('SessionSlots is bounded: the least recently seen session is forgotten first', async (t) => {
  const s = new SessionSlots(2)
  s.remember('a', 0)
  s.remember('b', 1)
  s.remember('a', 0) // seen again: now the most recent
  s.remember('c', 2)
  t.equal(s.size, 2)
  t.equal(s.take('b'), undefined, 'b was the oldest')
  t.equal(s.take('a'), 0)
  t.equal(s.take('c'), 2)
  t.equal(s.size, 0)
})

t.test('issue 11: stop sequences go to llama-server as `stop` (empty without), and the capability says it honours them', async (t) => {
  const { fake, adapter } = await setup(t)
  await collect(adapter.submit(taskRequest('llamacpp', { prompt: 'Count: 3', max_tokens: 3, stop: ['7'] }), opts()))
  await collect(adapter.submit(taskRequest('llamacpp', { prompt: 'Count: 3', max_tokens: 3 }), opts()))
  t.same(fake.hits('/completion').map((h) => h.body.stop), [['7'], []])
  t.match(await adapter.capabilities!(), { features: { stop: true } })
})

t.test('issue 11: sampling reaches llama-server in /completion\'s fields; the capability lists every parameter (LLAMACPP_SAMPLING)', async (t) => {
  const { fake, adapter } = await setup(t)
  const sampling = {
    temperature: 0.8, top_p: 0.9, min_p: 0.05, presence_penalty: 0.5, frequency_penalty: 0.25, repeat_penalty: 1.1, logit_bias: { 52: -100 },
  }
  await collect(adapter.submit(taskRequest('llamacpp', { prompt: 'Count: 3', max_tokens: 3, sampling }), opts()))
  t.match(fake.hits('/completion')[0]!.body, { ...sampling, top_k: 0 }, 'sampling: top_k off unless asked (OpenAI semantics)')
  await collect(adapter.submit(taskRequest('llamacpp', { prompt: 'x', max_tokens: 3, sampling: { response_format: { type: 'json_object' } } }), opts()))
  await collect(adapter.submit(taskRequest('llamacpp', {
    prompt: 'x', max_tokens: 3, sampling: { top_k: 5, temperature: 1, response_format: { type: 'json_schema', schema: { type: 'array' } } },
  }), opts()))
  const [, json, schema] = fake.hits('/completion').map((h) => h.body)
  t.match(json, { temperature: 0, top_k: 1, top_p: 1, min_p: 0, json_schema: { type: 'object' } }, 'json_object: any object, still greedy')
  t.notOk('repeat_penalty' in json! || 'logit_bias' in json!, 'unset penalties and bias are not sent (the engine default stays)')
  t.match(schema, { top_k: 5, json_schema: { type: 'array' } })
  t.same((await adapter.capabilities!()).features?.sampling, LLAMACPP_SAMPLING)
  t.same(LLAMACPP_SAMPLING, SAMPLING_PARAMS)
})

t.test('issue 11: an embedding task is one POST /v1/embeddings; vectors back in input order; a server without --embeddings fails it clearly', async (t) => {
  const { fake, adapter } = await setup(t, { embeddings: true })
  const events = await collect(adapter.submit(taskRequest('llamacpp', { workload: 'embedding', prompt: undefined, inputs: ['ab', 'c'] }), opts()))
  t.same(fake.hits('/v1/embeddings')[0]!.body, { input: ['ab', 'c'], encoding_format: 'float' })
  t.same(events.map((e) => e.kind), ['started', 'end'])
  t.match(events[1], { kind: 'end', data: { stop_reason: 'eos', tokens_out: 0, tokens_in: 3, embeddings: [fakeVector('ab'), fakeVector('c')] } })
  t.match(await adapter.capabilities!(), { supported_workloads: ['completion', 'embedding'] })

  const bare = await setup(t)
  const refused = await collect(bare.adapter.submit(taskRequest('llamacpp', { workload: 'embedding', prompt: undefined, inputs: ['x'] }), opts()))
  t.match(refused.at(-1), { kind: 'error', data: { message: /does not support embeddings\. Start it with `--embeddings`/ } })
})
