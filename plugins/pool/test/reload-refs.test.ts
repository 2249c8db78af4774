import t, { type Test } from 'tap'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { build } from '../../../test/helpers/build.js'
import { buildPools, fastPool, modelDir, waitFor } from './helpers.js'

const SECRET = 'root:$6$s3cr3t:19000:0:99999:7:::'

async function outsideFile (t: Test, name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'orc-outside-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, name), text)
  return join(dir, name)
}

const catalogHas = async (app: FastifyInstance, id: string): Promise<boolean> =>
  (await app.inject({ url: `/v1/catalog/models/${encodeURIComponent(id)}` })).statusCode === 200

t.test('issue 10 #1: a reload to a file outside the catalog root, or a symlink pointing out, is 400 naming new_model_ref; nothing is registered', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const secret = await outsideFile(t, 'shadow', SECRET)
  const outJson = await outsideFile(t, 'b.json', '{}')
  await symlink(outJson, join(root, 'link.json'))
  const { app, capture } = await buildPools(t, [fastPool('p', 'a.json')], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  const pid = app.pool.manager('p')!.current!.replica.pid
  for (const ref of [secret, `file:${secret}`, outJson, 'link.json', '/etc/shadow']) {
    const res = await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: ref } })
    t.equal(res.statusCode, 400, ref)
    t.match(res.json(), {
      code: 'INVALID_PARAMS',
      message: /^new_model_ref: ".*" resolves \(symlinks followed\) outside the model directories; a model ref sent over the API must lie under the catalog root /,
      pool_id: 'p',
    })
    t.notMatch(res.body, /s3cr3t|root:/, 'no file content in the answer')
  }
  for (const id of [`file:${secret}`, `file:${outJson}`, `file:${join(root, 'link.json')}`]) t.notOk(await catalogHas(app, id), `${id} is not in the catalog`)
  t.equal(app.pool.manager('p')!.operation, null, 'no operation started')
  t.equal(app.pool.manager('p')!.current!.replica.pid, pid, 'the same engine serves')
  t.notMatch(capture.text(), /s3cr3t/, 'no file content in the log')
})

t.test('issue 10 #1: a llama.cpp pool refuses a file that is no GGUF with 400 before the catalog sees it; no byte of it is quoted', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'orc-gguf-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  await writeFile(join(root, 'shadow.gguf'), SECRET)
  const { app, capture } = await build(t, {
    adapters: ['llamacpp'],
    catalog: { root },
    pools: [{
      id: 'tiny', engine: 'llamacpp', model: 'tiny', devices: [], preload: false, provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [1] },
    }],
  })
  const res = await app.inject({ method: 'POST', url: '/v1/pools/tiny/reload', payload: { new_model_ref: 'shadow.gguf' } })
  t.equal(res.statusCode, 400)
  t.match(res.json(), {
    code: 'INVALID_PARAMS',
    message: 'new_model_ref: "shadow.gguf" is not a GGUF model file (it does not start with the GGUF magic); engine llamacpp loads GGUF files',
  })
  t.notOk(await catalogHas(app, `file:${join(root, 'shadow.gguf')}`), 'not registered')
  t.equal(app.pool.manager('tiny')!.operation, null)
  const readyz = await app.inject({ url: '/readyz' })
  t.notMatch(readyz.body + capture.text(), /s3cr3t|root:/)
})

t.test('issue 10 #1: a failed reload while nothing serves: restarts use the model that served, not the failed target; the operation says failed', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'bad.json': { prepare_error: 'broken' } })
  const slow = {
    backoff_initial_ms: 1500,
    backoff_max_ms: 3000,
    breaker_max_restarts: 5,
    breaker_window_ms: 60_000,
    breaker_cooldown_ms: 60_000,
    drain_default_deadline_ms: 2000,
  }
  const { app } = await buildPools(t, [fastPool('p', 'a.json', { supervision: slow })], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  process.kill(app.pool.manager('p')!.current!.replica.pid!, 'SIGKILL')
  await waitFor('Backoff after the kill', () => app.pool.registry.get('p')?.state === 'Backoff')
  const res = await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'bad.json' } })
  t.equal(res.statusCode, 202)
  const op = () => app.pool.manager('p')!.operation
  await waitFor('the outcome', () => op()?.state !== 'running' ? op() : undefined)
  t.match(app.pool.manager('p')!.operation, { state: 'failed', target_model: 'bad.json', error: /engine gate: broken/ })
  t.equal(app.pool.manager('p')!.targetRef, 'a.json', 'the next restart targets the model that served')
  await waitFor('Ready again on a.json', () => app.pool.status('p')?.ready, 10_000)
  t.equal(app.pool.registry.get('p')!.model_id, `file:${root}/a.json`)
})

t.test('issue 10 #1: the serving engine dies during a reload that fails: the restart waits for the outcome, runs on the old model, says so', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'bad.json': { args: ['--never-healthy'] } })
  const pool = fastPool('p', 'a.json', { health_check: { interval_ms: 50, timeout_ms: 200, startup_timeout_ms: 1500, failure_threshold: 2 } })
  const { app } = await buildPools(t, [pool], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  const old = app.pool.manager('p')!.current!.replica.pid!
  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'bad.json' } })).statusCode, 202)
  process.kill(old, 'SIGKILL')
  const op = () => app.pool.manager('p')!.operation
  await waitFor('the outcome', () => op()?.state !== 'running' ? op() : undefined)
  t.match(op(), {
    state: 'failed',
    error: /^reload to bad\.json failed at the health gate: .*; the previous engine stopped meanwhile; the pool restarts on a\.json$/,
  })
  await waitFor('Ready again', () => app.pool.status('p')?.ready, 10_000)
  t.equal(app.pool.registry.get('p')!.model_id, `file:${root}/a.json`)
  t.equal(app.pool.manager('p')!.targetRef, 'a.json')
})
