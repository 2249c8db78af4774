import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { WORKER_ENTRY } from '../provisioner.js'
import { engineVersion } from '../version.js'
import { writeTinyModel } from '../tiny-file.js'

// One real engine (node-llama-cpp, threads 1, one slot) for the whole file: engine-heavy tests
// share it. Its shapes follow llama-server (spec embedded-engine.md §5).
t.setTimeout(180_000) // real engine processes on a shared 2-core machine

interface Worker { base: string, out: () => string, exited: Promise<number | null>, kill: (s?: NodeJS.Signals) => void, closeStdin: () => void }

function startWorker (args: string[]): Worker {
  const proc = spawn(process.execPath, [...process.execArgv, WORKER_ENTRY, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  let text = ''
  proc.stdout.on('data', (d) => { text += String(d) })
  proc.stderr.on('data', (d) => { text += String(d) })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  return { base: '', out: () => text, exited, kill: (s = 'SIGTERM') => { proc.kill(s) }, closeStdin: () => { proc.stdin.end() } }
}

async function waitLine (w: Worker, re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const until = Date.now() + ms
  for (;;) {
    const m = re.exec(w.out())
    if (m) return m
    if (Date.now() > until) throw new Error(`no ${re} in:\n${w.out()}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const post = async (url: string, body: unknown) => {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}
const get = async (url: string) => {
  const res = await request(url)
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}

function sse (text: string): Array<Record<string, unknown>> {
  return text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>)
}

const dir = await mkdtemp(join(tmpdir(), 'orc-worker-'))
const model = join(dir, 'tiny.gguf')
await writeTinyModel(model)
const w = startWorker([
  '--model', model, '--port', '0', '--threads', '1', '--parallel', '1',
  '--alias', 'tiny', '--metrics', '--gpu', 'off', '--exit-on-stdin-close',
])
const [, port] = await waitLine(w, /"event":"listening","port":(\d+)/)
const base = `http://127.0.0.1:${port}`
const loading = await get(`${base}/health`)
const loadingCompletion = await post(`${base}/completion`, { prompt: 'x' })
await waitLine(w, /"event":"ready"/)

t.test('/health answers 503 "Loading model" while loading, then {"status":"ok"}', async (t) => {
  t.equal(loading.status, 503)
  t.equal(loading.text, '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}')
  t.equal(loadingCompletion.status, 503, 'every route waits for the model')
  const ok = await get(`${base}/health`)
  t.equal(ok.status, 200)
  t.equal(ok.text, '{"status":"ok"}')
  t.match(w.out(), /"event":"ready","load_ms":\d+,"compute_mode":"cpu",.*"threads":1/)
})

t.test('/props and /slots have llama-server\'s keys', async (t) => {
  const props = JSON.parse((await get(`${base}/props`)).text)
  t.has(props, {
    total_slots: 1,
    model_path: model,
    build_info: engineVersion(),
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    is_sleeping: false,
    default_generation_settings: { n_ctx: 2048, params: { seed: 4294967295 } },
  })
  t.match(props.chat_template, /<\|im_start\|>/)
  const slots = JSON.parse((await get(`${base}/slots`)).text)
  t.equal(slots.length, 1)
  t.same(Object.keys(slots[0]).sort(), [
    'id', 'id_task', 'is_processing', 'n_ctx', 'n_prompt_tokens', 'n_prompt_tokens_cache', 'n_prompt_tokens_processed', 'next_token', 'params', 'speculative',
  ])
  t.match(slots[0], { id: 0, is_processing: false, n_ctx: 2048 })
})

t.test('/completion: `Count: 3` greedy gives 456789 then EOS, with EOS counted in tokens_predicted (decision 3, §5)', async (t) => {
  const r = await post(`${base}/completion`, { prompt: 'Count: 3', temperature: 0, return_tokens: true })
  t.equal(r.status, 200)
  const body = JSON.parse(r.text)
  t.same(Object.keys(body).sort(), [
    'content', 'generation_settings', 'has_new_line', 'id_slot', 'index', 'model', 'prompt', 'stop',
    'stop_type', 'stopping_word', 'timings', 'tokens', 'tokens_cached', 'tokens_evaluated', 'tokens_predicted', 'truncated',
  ])
  t.match(body, {
    content: '456789',
    stop: true,
    stop_type: 'eos',
    stopping_word: '',
    tokens_predicted: 7,
    tokens_evaluated: 8,
    id_slot: 0,
    model: 'tiny',
    prompt: 'Count: 3',
    tokens: [52, 53, 54, 55, 56, 57],
    generation_settings: { seed: 4294967295, n_predict: -1 },
  })
  t.same(Object.keys(body.timings).sort(), [
    'cache_n', 'predicted_ms', 'predicted_n', 'predicted_per_second', 'predicted_per_token_ms',
    'prompt_ms', 'prompt_n', 'prompt_per_second', 'prompt_per_token_ms',
  ])
  t.equal(body.timings.predicted_n, 7)
})

t.test('/completion: n_predict gives stop_type limit, a stop word gives word, token prompts work', async (t) => {
  const limit = JSON.parse((await post(`${base}/completion`, { prompt: 'Hello w', temperature: 0, n_predict: 5 })).text)
  t.match(limit, { content: 'abcde', stop_type: 'limit', tokens_predicted: 5, tokens: [] })
  const word = JSON.parse((await post(`${base}/completion`, { prompt: 'Hello w', temperature: 0, n_predict: 20, stop: ['efg'] })).text)
  t.match(word, { content: 'abcd', stop_type: 'word', stopping_word: 'efg' })
  const tokens = JSON.parse((await post(`${base}/completion`, { prompt: [67, 111, 117, 110, 116, 58, 32, 55], temperature: 0 })).text)
  t.match(tokens, { content: '89', stop_type: 'eos', prompt: '' })
  const seeded = async () => JSON.parse((await post(`${base}/completion`, { prompt: 'Hello w', temperature: 0.8, seed: 1234, n_predict: 16 })).text).content
  t.equal(await seeded(), await seeded(), 'seeded sampling is reproducible')
})

t.test('/completion with stream:true: SSE chunks with id_slot -1, then the final stop chunk (§5)', async (t) => {
  const r = await post(`${base}/completion`, { prompt: 'Count: 3', temperature: 0, stream: true })
  t.match(r.headers['content-type'], 'text/event-stream')
  const events = sse(r.text)
  const chunks = events.filter((e) => e.stop === false)
  t.equal(chunks.map((c) => c.content).join(''), '456789')
  t.same(chunks[0], { index: 0, content: '4', tokens: [52], stop: false, id_slot: -1, tokens_predicted: 1, tokens_evaluated: 8 })
  t.same(chunks.map((c) => c.tokens_predicted), [1, 2, 3, 4, 5, 6])
  t.match(events.at(-1), { stop: true, content: '', id_slot: 0, stop_type: 'eos', tokens_predicted: 7 })
})

t.test('requests queue for the slot while it is busy, and /metrics counts the deferred one', async (t) => {
  const longReq = request(`${base}/completion`, { method: 'POST', body: JSON.stringify({ prompt: 'Hello w', temperature: 0, n_predict: 1500, stream: true }) })
  const first = await longReq
  const firstText = first.body.text()
  await new Promise((resolve) => setTimeout(resolve, 20))
  const slots = JSON.parse((await get(`${base}/slots`)).text)
  t.equal(slots[0].is_processing, true)
  let firstDone = false
  void firstText.then(() => { firstDone = true })
  const queued = post(`${base}/completion`, { prompt: 'Count: 3', temperature: 0 })
  await new Promise((resolve) => setTimeout(resolve, 20))
  const metrics = (await get(`${base}/metrics`)).text
  if (!firstDone) t.match(metrics, /llamacpp:requests_deferred 1\n/, 'one request waits for the slot')
  const second = JSON.parse((await queued).text)
  t.ok(firstDone, 'the queued request ran after the first one finished')
  t.equal(second.content, '456789')
  t.equal(sse(await firstText).filter((e) => e.stop === false).length, 1500)
})

t.test('a client that disconnects mid-stream aborts its generation and frees the slot', async (t) => {
  const before = Number(/llamacpp:tokens_predicted_total (\d+)/.exec((await get(`${base}/metrics`)).text)![1])
  const ac = new AbortController()
  const res = await request(`${base}/completion`, {
    method: 'POST',
    body: JSON.stringify({ prompt: 'a', temperature: 0, n_predict: 100_000, stream: true }),
    signal: ac.signal,
  })
  let seen = 0
  try {
    for await (const chunk of res.body) {
      seen += (String(chunk).match(/data: /g) ?? []).length
      if (seen >= 5) ac.abort()
    }
  } catch { /* aborted */ }
  const t0 = Date.now()
  for (;;) {
    const slots = JSON.parse((await get(`${base}/slots`)).text)
    if (!slots[0].is_processing) break
    if (Date.now() - t0 > 5000) throw new Error('the slot stayed busy')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.ok(Date.now() - t0 < 1000, `slot free ${Date.now() - t0} ms after the disconnect`)
  const after = Number(/llamacpp:tokens_predicted_total (\d+)/.exec((await get(`${base}/metrics`)).text)![1])
  t.ok(after - before < 5000, `generation stopped after ${after - before} of 100000 tokens`)
  t.equal(JSON.parse((await post(`${base}/completion`, { prompt: 'Count: 5', temperature: 0 })).text).content, '6789', 'the slot serves the next request')
})

t.test('POST /slots/{id}?action=erase drops the slot\'s KV, as llama-server does; the next run re-evaluates the prompt', async (t) => {
  const first = JSON.parse((await post(`${base}/completion`, { prompt: 'Count: 3', n_predict: 2 })).text)
  const again = JSON.parse((await post(`${base}/completion`, { prompt: 'Count: 3', n_predict: 2 })).text)
  t.ok(again.timings.cache_n > 0, 'the prompt was cached by the first run')
  t.ok(JSON.parse((await get(`${base}/slots`)).text)[0].n_prompt_tokens_cache > 0)
  const erased = await post(`${base}/slots/0?action=erase`, {})
  t.equal(erased.status, 200)
  t.same(JSON.parse(erased.text), { id_slot: 0, n_erased: first.tokens_cached })
  t.equal(JSON.parse((await get(`${base}/slots`)).text)[0].n_prompt_tokens_cache, 0)
  const cold = JSON.parse((await post(`${base}/completion`, { prompt: 'Count: 3', n_predict: 2 })).text)
  t.equal(cold.timings.cache_n, 0, 'nothing left to reuse')
  t.equal(cold.content, first.content, 'and the same output')
  t.match(JSON.parse((await post(`${base}/slots/5?action=erase`, {})).text), { error: { code: 400, message: 'Invalid slot ID' } })
  t.match(JSON.parse((await post(`${base}/slots/0?action=save`, {})).text), { error: { code: 400, message: /does not support slot save/ } })
  t.match(JSON.parse((await post(`${base}/slots/0?action=nope`, {})).text), { error: { code: 400, message: 'Invalid action' } })
})

t.test('/tokenize, /metrics and errors', async (t) => {
  t.same(JSON.parse((await post(`${base}/tokenize`, { content: 'the cat' })).text), { tokens: [116, 257, 273, 263] })
  t.same(
    JSON.parse((await post(`${base}/tokenize`, { content: 'hi', with_pieces: true })).text),
    { tokens: [{ id: 104, piece: 'h' }, { id: 105, piece: 'i' }] }
  )
  const m = await get(`${base}/metrics`)
  t.match(m.headers['content-type'], 'text/plain; version=0.0.4')
  for (const name of ['prompt_tokens_total', 'tokens_predicted_total', 'kv_cache_usage_ratio', 'requests_processing', 'requests_deferred']) {
    t.match(m.text, `# TYPE llamacpp:${name} `)
  }
  t.equal((await get(`${base}/nope`)).status, 404)
  t.equal((await get(`${base}/nope`)).text, '{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}')
  const bad = await post(`${base}/completion`, '{not json')
  t.equal(bad.status, 400)
  t.match(JSON.parse(bad.text), { error: { code: 400, type: 'invalid_request_error' } })
  t.match(
    JSON.parse((await post(`${base}/completion`, { n_predict: 3 })).text),
    { error: { code: 400, message: '"prompt" must be a string or an array of token ids' } }
  )
  t.match(JSON.parse((await post(`${base}/completion`, { prompt: '' })).text), { error: { message: '"prompt" is empty' } })
  t.match(JSON.parse((await post(`${base}/completion`, { prompt: 'x'.repeat(3000) })).text), { error: { message: /more than the context of 2048/ } })
  t.match(JSON.parse((await post(`${base}/completion`, '[1]')).text), { error: { message: 'the request body must be a JSON object' } })
  t.match(JSON.parse((await post(`${base}/tokenize`, {})).text), { error: { message: '"content" must be a string' } })
})

t.test('issue 11: /completion honours logit_bias (by id, by text, false bans) and json_schema as llama-server does', async (t) => {
  const content = async (body: Record<string, unknown>): Promise<string> => {
    const r = await post(`${base}/completion`, { prompt: 'Count: 3', n_predict: 40, temperature: 0, ...body })
    t.equal(r.status, 200, JSON.stringify(body))
    return JSON.parse(r.text).content as string
  }
  t.equal(await content({}), '456789')
  // the tiny model's byte tokens: id 52 is '4'; banning it changes the greedy path
  const banned = await content({ logit_bias: { 52: -100 } })
  t.not(banned[0], '4')
  t.equal(await content({ logit_bias: [[52, false]] }), banned, 'false bans as -100 does')
  t.equal(await content({ logit_bias: [['4', false]] }), banned, 'a string in the array form is text, tokenized')
  t.equal(await content({ logit_bias: { 52: 0 } }), '456789', 'a zero bias changes nothing')
  const obj = await content({ json_schema: { type: 'object' } })
  t.type(JSON.parse(obj), 'object', `json_schema {type:object} gives a JSON object: ${obj}`)
  const schema = { type: 'object', properties: { colour: { enum: ['red', 'blue'] } }, required: ['colour'] }
  t.match(JSON.parse(await content({ json_schema: schema })), { colour: /^(red|blue)$/ }, 'a schema is followed')
  const sse = await post(`${base}/completion`, { prompt: 'Count: 3', n_predict: 40, temperature: 0, json_schema: schema, stream: true })
  t.match(sse.text, /"stop":true/, 'streamed under a grammar too')
  t.match(JSON.parse((await post(`${base}/completion`, { prompt: 'x', grammar: 'root ::= "a"' })).text),
    { error: { code: 400, message: '"grammar" (GBNF) is not served by the embedded worker; send "json_schema"' } })
  t.match(JSON.parse((await post(`${base}/completion`, { prompt: 'x', json_schema: [1] })).text),
    { error: { code: 400, message: '"json_schema" must be an object' } })
  t.match(JSON.parse((await post(`${base}/completion`, { prompt: 'x', logit_bias: 5 })).text), { error: { code: 400, message: /"logit_bias" must be/ } })
  t.match(JSON.parse((await post(`${base}/completion`, { prompt: 'x', logit_bias: { 1: 'x' } })).text), { error: { code: 400, message: /bias must be a number or false/ } })
})

t.test('issue 11: POST /v1/embeddings answers as llama-server with --embeddings: a vector per input, usage in tokens', async (t) => {
  const r = await post(`${base}/v1/embeddings`, { input: ['hello', 'world', 'hello'] })
  t.equal(r.status, 200)
  const body = JSON.parse(r.text)
  t.match(body, { object: 'list', model: 'tiny', usage: { prompt_tokens: Number, total_tokens: Number } })
  t.same(body.data.map((d: { index: number, object: string }) => [d.index, d.object]), [[0, 'embedding'], [1, 'embedding'], [2, 'embedding']])
  t.ok(body.data.every((d: { embedding: number[] }) => d.embedding.length === 64))
  t.same(body.data[0].embedding, body.data[2].embedding)
  const one = JSON.parse((await post(`${base}/v1/embeddings`, { input: 'hello' })).text)
  t.same(one.data[0].embedding, body.data[0].embedding, 'a string input is one input')
  t.match(JSON.parse((await post(`${base}/v1/embeddings`, { input: [] })).text), { error: { code: 400, message: /"input" must be a non-empty string/ } })
  t.match(JSON.parse((await post(`${base}/v1/embeddings`, { input: 'x', encoding_format: 'base64' })).text),
    { error: { code: 400, message: '"encoding_format" must be "float"' } })
  t.equal(JSON.parse((await post(`${base}/completion`, { prompt: 'Count: 3', temperature: 0 })).text).content, '456789', 'completions still served beside')
})

t.test('issue 11: temperature sampling is reproducible by seed, and penalties change a greedy path (a random-weight model)', async (t) => {
  const random = join(dir, 'random.gguf')
  await writeTinyModel(random, { mode: 'random' })
  const r = startWorker(['--model', random, '--port', '0', '--threads', '1', '--parallel', '1', '--alias', 'rnd', '--gpu', 'off', '--exit-on-stdin-close'])
  const [, rport] = await waitLine(r, /"event":"listening","port":(\d+)/)
  await waitLine(r, /"event":"ready"/)
  const tokens = async (body: Record<string, unknown>): Promise<number[]> =>
    JSON.parse((await post(`http://127.0.0.1:${rport}/completion`, { prompt: 'Count: 3', n_predict: 40, return_tokens: true, ...body })).text).tokens as number[]
  const sampled = { temperature: 1, top_k: 0, top_p: 1, min_p: 0 }
  const s7 = await tokens({ ...sampled, seed: 7 })
  t.same(await tokens({ ...sampled, seed: 7 }), s7, 'the same seed, the same tokens')
  t.notSame(await tokens({ ...sampled, seed: 8 }), s7, 'another seed, other tokens')
  const greedy = await tokens({ temperature: 0, top_k: 1 })
  const repeats = (xs: number[]): number => xs.length - new Set(xs).size
  for (const penalty of [{ repeat_penalty: 3 }, { presence_penalty: 2 }, { frequency_penalty: 2 }]) {
    const p = await tokens({ temperature: 0, top_k: 1, ...penalty })
    t.notSame(p, greedy, `${JSON.stringify(penalty)} changes the path`)
    t.ok(repeats(p.slice(0, 30)) <= repeats(greedy.slice(0, 30)), `${JSON.stringify(penalty)} repeats no more than greedy`)
  }
  r.closeStdin()
  t.equal(await r.exited, 0)
})

t.test('the worker ends with its parent: stdin closing stops it cleanly', async (t) => {
  w.closeStdin()
  t.equal(await w.exited, 0)
})

t.test('start-up failures exit 1 with one clear line', async (t) => {
  const junk = join(dir, 'junk.gguf')
  await writeFile(junk, 'not a model')
  // argument errors exit before any engine loads: run them side by side
  const [noModel, badArg, badGpu] = [startWorker([]), startWorker(['--model', model, '--threads', '0']), startWorker(['--model', model, '--gpu', 'cuda'])]
  t.same(await Promise.all([noModel.exited, badArg.exited, badGpu.exited]), [1, 1, 1])
  t.match(noModel.out(), 'llama-orch embedded worker: --model FILE is required')
  t.match(badArg.out(), '--threads must be an integer ≥ 1, got "0"')
  t.match(badGpu.out(), '--gpu must be auto or off, got "cuda"')
  const badFile = startWorker(['--model', junk, '--port', '0'])
  t.equal(await badFile.exited, 1)
  t.match(badFile.out(), /llama-orch embedded worker: .*/)
  const needGpu = startWorker(['--model', model, '--port', '0', '--gpu', 'off', '--require-gpu'])
  t.equal(await needGpu.exited, 1)
  t.match(needGpu.out(), 'compute_policy gpu-required, but node-llama-cpp found no GPU backend')
  const term = startWorker(['--model', model, '--port', '0'])
  await waitLine(term, /"event":"listening"/)
  term.kill('SIGTERM')
  t.equal(await term.exited, 0)
})
