import t from 'tap'
import { randomUUID } from 'node:crypto'
import { copyFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/build.js'
import { waitFor } from '../helpers/wait.js'
import { writeTinyModel } from '../../extensions/provider-embedded/tiny-file.js'
import { parseSse, type Frame } from '../fixtures/dataplane.js'

// Issue 5 acceptance, end to end through the public API: the built-in `embedded` provider
// runs the real llama.cpp engine (node-llama-cpp, one thread) on the generated tiny model,
// the built-in `llamacpp` adapter drives it, and tasks stream over real HTTP and SSE.
t.setTimeout(240_000)
/** Model loads and restarts on a busy 2-core CI machine. */
const SLOW = 60_000

let root = ''
let base = ''
let app: FastifyInstance

const status = async (path: string): Promise<number> => { const r = await request(base + path); await r.body.dump(); return r.statusCode }
const json = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, body: Record<string, any> }> => {
  const r = await request(base + path, { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) })
  const text = await r.body.text()
  return { status: r.statusCode, body: text ? JSON.parse(text) : {} }
}
const task = (prompt: string, maxTokens: number) => ({
  task_id: randomUUID(),
  session_id: randomUUID(),
  workload: 'completion',
  model_ref: 'tiny',
  engine: 'llamacpp',
  ctx: 0,
  priority: 'interactive',
  prompt,
  max_tokens: maxTokens,
  deadline_ms: 60_000,
})
/** Submits a task and reads its whole stream; `onToken` may act after a given token. */
async function run (prompt: string, maxTokens = 16, onToken?: (i: number) => void): Promise<{ frames: Frame[], text: string, sessionId: string }> {
  const body = task(prompt, maxTokens)
  const admitted = await json('POST', '/v1/tasks', body)
  if (admitted.status !== 202) throw new Error(`admission ${admitted.status}: ${JSON.stringify(admitted.body)}`)
  const res = await request(`${base}/v1/tasks/${body.task_id}/stream`)
  let raw = ''
  let tokens = 0
  for await (const chunk of res.body) {
    raw += String(chunk)
    const seen = (raw.match(/event: token/g) ?? []).length
    // not `onToken?.(tokens++)`: an optional call skips its arguments, so tokens would never advance
    for (; tokens < seen; tokens++) onToken?.(tokens)
  }
  const frames = parseSse(raw)
  return { frames, text: frames.filter((f) => f.event === 'token').map((f) => f.json.t).join(''), sessionId: body.session_id }
}

t.test('the quick-start pool end to end: real engine, real adapter, public API (issue 5 acceptance)', async (t) => {
  root = await mkdtemp(join(tmpdir(), 'orc-e2e-'))
  await writeTinyModel(join(root, 'tiny.gguf'))
  await copyFile(join(root, 'tiny.gguf'), join(root, 'tiny-b.gguf'))

  app = (await build(t, {
    providers: ['embedded'],
    adapters: ['llamacpp'],
    catalog: { root },
    pools: [{
      id: 'tiny',
      engine: 'llamacpp',
      model: 'tiny',
      devices: [],
      provisioning: { mode: 'embedded', compute_policy: 'cpu-only', model: { ref: 'tiny.gguf' } },
      supervision: { backoff_initial_ms: 100, backoff_max_ms: 500 },
      health_check: { interval_ms: 200, startup_timeout_ms: 60_000 },
    }],
  })).app
  base = await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor('the pool to be Ready', async () => await status('/readyz') === 200, SLOW)

  await t.test('a task with prompt "Count: 3" streams 456789 from the embedded engine (issue 5)', async (t) => {
    const { frames, text, sessionId } = await run('Count: 3')
    t.equal(text, '456789')
    t.same(frames.map((f) => f.event).filter((e) => e !== 'metrics'), ['started', 'token', 'token', 'token', 'token', 'token', 'token', 'end'])
    t.match(frames.at(-1)!.json, { tokens_out: 6 })
    const tooLong = await json('POST', '/v1/tasks', { ...task('Count: 3', 4), ctx: 4096 })
    t.match(tooLong, { status: 400, body: { code: 'INVALID_PARAMS', message: /ctx 4096 .*ctx_max \(2048\)/ } }, 'the engine-reported ctx_max guards admission')
    const health = (await json('GET', '/v1/pools/tiny/health')).body
    const engines = (await json('GET', '/v1/catalog/engines')).body
    t.match(
      engines.items,
      [{ id: health.engine_catalog_id, engine: 'llamacpp', version: health.engine_version, digest: health.engine_digest }],
      'the embedded engine build is in the catalog (ORCH-3441)'
    )
    const caps = await json('GET', '/v1/capabilities')
    t.match(caps.body.engines, [{ engine: 'llamacpp', ctx_max: 2048, engine_version: /node-llama-cpp/ }])

    const worker = new URL(app.pool.manager('tiny')!.current!.prepared.health.url).origin
    const cachedTokens = async (): Promise<number> =>
      (JSON.parse(await (await request(`${worker}/slots`)).body.text()) as Array<{ n_prompt_tokens_cache: number }>)[0]!.n_prompt_tokens_cache
    t.ok(await cachedTokens() > 0, 'the session left its KV in the slot')
    const deleted = await request(`${base}/v1/sessions/${sessionId}`, { method: 'DELETE' })
    await deleted.body.dump()
    t.equal(deleted.statusCode, 204)
    await waitFor('the slot erased', async () => await cachedTokens() === 0, SLOW)
    t.pass('DELETE /v1/sessions/{id} freed the session\'s KV in the engine (§2.4)')
  })

  await t.test('SIGKILL of the worker mid-stream: WORKER_RESET, Unready, then Ready after the supervised restart', async (t) => {
    const pid = app.pool.manager('tiny')!.current!.replica.pid!
    const { frames } = await run('abc', 1800, (i) => { if (i === 0) process.kill(pid, 'SIGKILL') })
    t.match(frames.at(-1), { event: 'error', json: { code: 'WORKER_RESET', engine: 'llamacpp' } })
    t.notOk(frames.some((f) => f.event === 'end'), 'no end frame after the error')
    await waitFor('/readyz 503', async () => await status('/readyz') === 503, 10_000)
    await waitFor('/readyz 200 again', async () => await status('/readyz') === 200, SLOW)
    t.not(app.pool.manager('tiny')!.current!.replica.pid, pid, 'a new worker process')
    t.equal((await run('Count: 6')).text, '789', 'a new task succeeds')
  })

  await t.test('reload to a missing model: 202, the error on health, and the old model keeps serving', async (t) => {
    const res = await json('POST', '/v1/pools/tiny/reload', { new_model_ref: 'missing.gguf' })
    t.equal(res.status, 202)
    const health = await waitFor('the failed reload', async () => {
      const h = (await json('GET', '/v1/pools/tiny/health')).body
      return h.operation?.state === 'failed' ? h : undefined
    }, SLOW)
    t.match(health, { ready: true, model_id: `file:${root}/tiny.gguf`, last_error: /missing\.gguf/ })
    t.equal((await run('Count: 3')).text, '456789')
  })

  await t.test('reload to a valid second model: tasks keep succeeding throughout; health shows the new model', async (t) => {
    const res = await json('POST', '/v1/pools/tiny/reload', { new_model_ref: 'tiny-b.gguf' })
    t.equal(res.status, 202)
    const results: string[] = []
    let done = false
    // eslint-disable-next-line no-unmodified-loop-condition -- the test body sets `done` once the reload is through
    const traffic = (async () => { while (!done) results.push((await run('Count: 3')).text) })()
    const health = await waitFor('the reload', async () => {
      const h = (await json('GET', '/v1/pools/tiny/health')).body
      return h.operation?.state !== 'running' ? h : undefined
    }, SLOW)
    done = true
    await traffic
    t.match(health, { ready: true, operation: { kind: 'reload', state: 'succeeded' }, model_id: `file:${root}/tiny-b.gguf` })
    t.ok(results.length > 0)
    t.same(results, results.map(() => '456789'), `all ${results.length} tasks during the reload succeeded`)
  })

  await t.test('drain: running tasks finish, new tasks are refused, health reports the drain', async (t) => {
    const running = run('abc', 400)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const res = await json('POST', '/v1/pools/tiny/drain', { deadline_ms: 10_000 })
    t.equal(res.status, 202)
    const refused = await json('POST', '/v1/tasks', task('Count: 3', 4))
    t.equal(refused.status, 503)
    t.match(refused.body, { code: 'POOL_UNREADY', retriable: true }, 'spec H39: a draining pool answers POOL_UNREADY')
    const finished = await running
    t.equal(finished.frames.at(-1)!.event, 'end', 'the running task finished')
    const health = await waitFor('the drain', async () => {
      const h = (await json('GET', '/v1/pools/tiny/health')).body
      return h.state === 'Stopped' ? h : undefined
    }, SLOW)
    t.match(health, { ready: false, draining: true, operation: { kind: 'drain', state: 'succeeded' } })
  })
})
