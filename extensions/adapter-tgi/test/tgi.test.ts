import t from 'tap'
import type { Test } from 'tap'
import { collect, taskRequest } from '../../../test/helpers/adapter-conformance.js'
import { kitAdapter } from '../../../test/helpers/conformance-targets.js'
import { fakeTgi, TGI_SHA, TGI_VERSION } from '../../../test/fixtures/engines/tgi.js'
import { FakeEngine, json } from '../../../test/fixtures/engines/fake-engine.js'
import { build } from '../../../test/helpers/build.js'
import { deriveSeed } from '../../../sdk/determinism.js'
import { TGI_SAMPLING, TgiOptions, tgiProtocol } from '../tgi.js'

const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function setup (t: Test, fakeOpts: Parameters<typeof fakeTgi>[0] = {}) {
  const fake = await fakeTgi(fakeOpts)
  const { adapter, close } = kitAdapter('tgi', TgiOptions, tgiProtocol)(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  return { fake, adapter }
}

t.test('profile v1 on TGI: do_sample false and the seed, no temperature or top_p (scenario 13); special tokens not emitted', async (t) => {
  const { fake, adapter } = await setup(t, { special: true })
  const r = taskRequest('tgi', { prompt: 'Count: 3', max_tokens: 3 })
  const events = await collect(adapter.submit(r, opts()))
  const body = fake.hits('/generate_stream')[0]!.body
  t.same(body, { inputs: 'Count: 3', parameters: { max_new_tokens: 3, do_sample: false, seed: deriveSeed(r.task_id), details: true } })
  t.notOk('temperature' in body.parameters || 'top_p' in body.parameters)
  t.same(events.filter((e) => e.kind === 'token').map((e) => (e.data as { t: string }).t), ['Hel', 'lo', ' wor'], 'the special <s> is dropped')
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'length', tokens_out: 3, tokens_in: 8 } })
  t.match(events[0], { data: { engine_version: `${TGI_VERSION}+${TGI_SHA.slice(0, 7)}` } })
})

t.test('/info gives slots, context and version; 424 generation and 422 validation are ADAPTER', async (t) => {
  const { fake, adapter } = await setup(t, { maxTotalTokens: 4096 })
  t.same(await adapter.props(), { slots_total: 128, slots_free: null, ctx_max: 4096, engine_version: `${TGI_VERSION}+${TGI_SHA.slice(0, 7)}` })
  t.match(await adapter.capabilities!(), { features: { model_sha: 'abc123' } })
  fake.faults.statuses.push({ status: 424, body: '{"error":"Request failed during generation: Server error: CUDA OOM","error_type":"generation"}' })
  t.match(await collect(adapter.submit(taskRequest('tgi'), opts())), [{ kind: 'error', data: { kind: 'ADAPTER', upstream_status: 424, message: /CUDA OOM/ } }])
  fake.faults.statuses.push({ status: 422, body: '{"error":"Input validation error: `temperature` must be strictly positive","error_type":"validation"}' })
  t.match(await collect(adapter.submit(taskRequest('tgi'), opts())), [{ kind: 'error', data: { kind: 'ADAPTER', upstream_status: 422 } }])
  fake.faults.statuses.push({ status: 500, body: '{"error":"Request failed during generation: incomplete","error_type":"incomplete_generation"}' })
  t.match(await collect(adapter.submit(taskRequest('tgi'), opts())), [{ kind: 'error', data: { kind: 'WORKER_RESET', upstream_status: 500 } }])
})

t.test('mid-stream error frames by error_type: incomplete_generation → WORKER_RESET, overloaded → POOL_UNAVAILABLE (scenario 11)', async (t) => {
  const frames: Record<string, string> = {
    incomplete_generation: 'WORKER_RESET',
    overloaded: 'POOL_UNAVAILABLE',
    validation: 'ADAPTER',
  }
  for (const [type, kind] of Object.entries(frames)) {
    const fake = await FakeEngine.start({
      'POST /generate_stream': (_q, res, _b, f) => f.generate(res, {
        token: (x) => `data:{"token":{"text":${JSON.stringify(x)},"special":false}}\n\n`,
        final: () => `data:{"error":"boom","error_type":"${type}"}\n\n`,
        error: () => '',
      }),
      'GET /info': (_q, res) => json(res, 200, {}),
    })
    const { adapter, close } = kitAdapter('tgi', TgiOptions, tgiProtocol)(fake.url, {}, () => {})
    const events = await collect(adapter.submit({ ...taskRequest('tgi'), prompt: undefined } as never, opts()))
    t.match(events.at(-1), { kind: 'error', data: { kind, message: /boom/ } }, type)
    t.same(await adapter.props(), { slots_total: null, slots_free: null, ctx_max: null, engine_version: null })
    await t.rejects(adapter.engineVersion(), /no version/)
    t.equal(fake.hits('/generate_stream')[0]!.body.inputs, '')
    await close()
    await fake.close()
  }
})

t.test('a final frame with an unknown finish reason ends as eos; the built-in loads', async (t) => {
  const fake = await FakeEngine.start({
    'POST /generate_stream': (_q, res, _b, f) => f.generate(res, {
      token: (x) => `data:{"token":{"text":${JSON.stringify(x)}}}\n\n`,
      final: () => 'data:{"token":{"text":"","special":true},"details":{"finish_reason":"other"}}\n\n',
      error: () => '',
    }, ['a']),
    'GET /info': (_q, res) => json(res, 200, { version: '1.0.0' }),
  })
  const { adapter, close } = kitAdapter('tgi', TgiOptions, tgiProtocol)(fake.url, {}, () => {})
  t.teardown(async () => { await close(); await fake.close() })
  t.match((await collect(adapter.submit(taskRequest('tgi', { inputs: ['q'] }), opts()))).at(-1), { kind: 'end', data: { stop_reason: 'eos', tokens_out: 1 } })
  t.equal(await adapter.engineVersion(), '1.0.0')
  const { app } = await build(t, { adapters: ['tgi'] })
  t.same(app.adapters.engines(), ['tgi'])
})

t.test('issue 11: stop sequences go to TGI as parameters.stop, and the capability says it honours them', async (t) => {
  const { fake, adapter } = await setup(t)
  await collect(adapter.submit(taskRequest('tgi', { prompt: 'Count: 3', max_tokens: 3, stop: ['6', '\n'] }), opts()))
  t.same(fake.hits('/generate_stream')[0]!.body.parameters.stop, ['6', '\n'])
  t.match(await adapter.capabilities!(), { features: { stop: true } })
})

t.test('issue 11: sampling reaches TGI in `parameters` (do_sample, a JSON grammar), never a value its validation refuses', async (t) => {
  const { fake, adapter } = await setup(t)
  const run = async (sampling: Record<string, unknown>) => {
    const events = await collect(adapter.submit(taskRequest('tgi', { prompt: 'x', max_tokens: 3, sampling }), opts()))
    return { events, parameters: fake.hits('/generate_stream').at(-1)!.body.parameters }
  }
  const sampled = await run({ temperature: 0.7, top_p: 0.9, top_k: 20, repeat_penalty: 1.2, frequency_penalty: 0.5 })
  t.match(sampled.parameters, { do_sample: true, temperature: 0.7, top_p: 0.9, top_k: 20, repetition_penalty: 1.2, frequency_penalty: 0.5 })
  t.equal(sampled.events.at(-1)!.kind, 'end')
  const neutral = await run({ temperature: 0, top_p: 1, top_k: 0 })
  t.match(neutral.parameters, { do_sample: false })
  t.notOk('temperature' in neutral.parameters || 'top_p' in neutral.parameters || 'top_k' in neutral.parameters, 'TGI refuses these (422): left out')
  t.equal(neutral.events.at(-1)!.kind, 'end', 'so the fake TGI, validating as TGI does, answers')
  const json = await run({ response_format: { type: 'json_object' } })
  t.same(json.parameters.grammar, { type: 'json', value: { type: 'object' } })
  const schema = await run({ response_format: { type: 'json_schema', schema: { type: 'array' } } })
  t.same(schema.parameters.grammar, { type: 'json', value: { type: 'array' } })
  t.same((await adapter.capabilities!()).features?.sampling, TGI_SAMPLING)
  t.notOk(TGI_SAMPLING.includes('min_p') || TGI_SAMPLING.includes('logit_bias') || TGI_SAMPLING.includes('presence_penalty'))
})

t.test('the fake TGI validates parameters as TGI does (422), so the test above could fail', async (t) => {
  const { fake } = await setup(t)
  for (const [parameters, message] of [
    [{ temperature: 0 }, /`temperature` must be strictly positive/],
    [{ top_p: 1 }, /`top_p` must be > 0.0 and < 1.0/],
    [{ top_k: 0 }, /`top_k` must be strictly positive/],
  ] as const) {
    const body = JSON.stringify({ inputs: 'x', parameters })
    const res = await fetch(`${fake.url}/generate_stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    t.equal(res.status, 422)
    t.match(await res.json(), { error: message, error_type: 'validation' })
  }
})
