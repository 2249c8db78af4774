/**
 * Issue 12 acceptance, end to end: pools in `provisioning.mode: source` come up Ready on a
 * real llama-server the llamacpp provider built from the llama.cpp release node-llama-cpp
 * ships, and tasks through the public API stream from it. The engine cache is the one CI
 * keeps between runs (LLAMA_ORCH_ENGINE_CACHE, filled by `llama-orch provision` in .ci/run)
 * or a fresh folder: either way the shared ccache keeps a build to seconds once any build
 * of the same source ran, and a second start compiles nothing.
 */
import t, { type Test } from 'tap'
import OpenAI from 'openai'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { build } from '../helpers/build.js'
import { waitFor } from '../helpers/wait.js'
import { writeTinyModel } from '../../extensions/provider-embedded/tiny-file.js'
import { findTools } from '../../lib/provision/preflight.js'
import { which } from '../../lib/provision/command.js'
import { bundledRelease } from '../../extensions/provider-llamacpp/checkout.js'

t.setTimeout(1_200_000)
/** A cold build (no ccache yet) takes minutes on 2 cores. */
const BUILD = 900_000

const missing = (await findTools(['git', 'cmake', 'build-tool', 'compiler'])).filter((x) => x.found === null).map((x) => x.tool)
const skip = missing.length > 0 || bundledRelease() === null ? `needs ${missing.join(', ') || 'the llama.cpp bundle'} to build llama-server` : false
const nvcc = await which('nvcc')

if (skip) t.test('source pools', { skip }, async () => {})
else {
  const cacheRoot = process.env.LLAMA_ORCH_ENGINE_CACHE ?? mkdtempSync(join(tmpdir(), 'orc-e2e-engines-'))
  if (process.env.LLAMA_ORCH_ENGINE_CACHE === undefined) t.teardown(() => rmSync(cacheRoot, { recursive: true, force: true }))
  const root = mkdtempSync(join(tmpdir(), 'orc-e2e-src-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  await writeTinyModel(join(root, 'tiny.gguf'))
  const poolOf = (id: string, over: Record<string, unknown> = {}, flags: string[] = []) => ({
    id,
    engine: 'llamacpp',
    model: id,
    devices: [],
    provisioning: {
      mode: 'source',
      compute_policy: 'cpu-fallback',
      source: { build: { cmake_flags: ['-DGGML_NATIVE=OFF', ...flags] } },
      model: { ref: 'tiny.gguf' },
      flags: ['--threads', '1'],
    },
    supervision: { backoff_initial_ms: 200, backoff_max_ms: 1000 },
    health_check: { interval_ms: 200, startup_timeout_ms: 60_000 },
    ...over,
  })
  const health = async (base: string, id: string): Promise<Record<string, any>> => {
    const r = await request(`${base}/v1/pools/${id}/health`)
    return await r.body.json() as Record<string, any>
  }
  const boot = async (t: Test, pools: unknown[]) => {
    const built = await build(t, { providers: [{ package: 'llamacpp', options: { cache_dir: cacheRoot } }], adapters: ['llamacpp'], catalog: { root }, pools })
    return { ...built, base: await built.app.listen({ port: 0, host: '127.0.0.1' }) }
  }

  t.test('a mode: source pool builds, records its EngineEntry, serves `Count: 3` → 456789; a second start reuses the build', async (t) => {
    const first = await boot(t, [poolOf('tiny-src')])
    await waitFor('the source pool to be Ready', async () => first.app.pool.status('tiny-src')?.ready === true, BUILD)
    const h = await health(first.base, 'tiny-src')
    t.match(h, { state: 'Ready', engine: 'llamacpp', compute_mode: 'cpu', engine_digest: /^sha256:[0-9a-f]{64}$/, engine_catalog_id: /^llamacpp:llama\.cpp-[0-9a-f]{12}@sha256:/ })
    const caps = await (await request(`${first.base}/v1/capabilities`)).body.json() as { engines: Array<{ engine: string, pools: unknown[] }> }
    t.match(caps.engines.find((e) => e.engine === 'llamacpp')!.pools, [{
      pool_id: 'tiny-src', engine_version: h.engine_version, engine_digest: h.engine_digest, engine_catalog_id: h.engine_catalog_id, compute_mode: 'cpu',
    }], '/v1/capabilities names the build serving each pool')
    const entry = first.app.catalog.getEngine(h.engine_catalog_id)
    t.match(entry, { engine: 'llamacpp', build_ref: /^[0-9a-f]{40}$/, digest: h.engine_digest, build_flags: ['-DGGML_NATIVE=OFF'], compute_mode: 'cpu' }, 'ORCH-3441')
    const sdk = new OpenAI({ baseURL: `${first.base}/v1`, apiKey: 'none', maxRetries: 0 })
    const done = await sdk.completions.create({ model: 'tiny-src', prompt: 'Count: 3', max_tokens: 8, temperature: 0 })
    t.equal(done.choices[0]!.text, '456789', 'the source-built llama-server answers through the public API')
    const messages = [{ role: 'user' as const, content: 'Count: 3' }]
    const stream = await sdk.chat.completions.create({ model: 'tiny-src', messages, max_tokens: 8, temperature: 0, stream: true })
    // the native API in one request: its stream's `started` frame names the engine build (issue 12 #4)
    const res = await request(`${first.base}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ model_ref: 'tiny-src', prompt: 'Count: 3', max_tokens: 8 }),
    })
    const sse = await res.body.text()
    const started = JSON.parse(/event: started\ndata: (.*)\n/.exec(sse)![1]!) as Record<string, unknown>
    t.match(started, { engine_version: h.engine_version, engine_digest: h.engine_digest, engine_catalog_id: h.engine_catalog_id })
    t.equal([...sse.matchAll(/event: token\ndata: (.*)\n/g)].map((m) => (JSON.parse(m[1]!) as { t: string }).t).join(''), '456789')
    let chat = ''
    for await (const chunk of stream) chat += chunk.choices[0]?.delta?.content ?? ''
    t.ok(chat.length > 0, `chat streams through llama-server's chat endpoint (${JSON.stringify(chat)})`)
    const stampAt = statSync(join(entry!.artifacts[0]!, '..', '..', 'build.json')).mtimeMs
    await first.app.close()

    const second = await boot(t, [poolOf('tiny-src')])
    await waitFor('the pool to be Ready again', async () => second.app.pool.status('tiny-src')?.ready === true, 120_000)
    t.equal((await health(second.base, 'tiny-src')).engine_digest, h.engine_digest, 'the same build serves')
    t.equal(statSync(join(entry!.artifacts[0]!, '..', '..', 'build.json')).mtimeMs, stampAt, 'nothing was rebuilt')
    t.ok(second.capture.records().some((r) => r.actor === 'engine-provisioner' && r.action === 'reuse'), 'the reuse is narrated')
    await second.app.close()
  })

  t.test('-DGGML_CUDA=ON where the CUDA build fails: cpu-fallback comes up Ready on a CPU build; gpu-required fails with guidance (decision 1)',
    async (t) => {
      const { app, base, capture } = await boot(t, [
        poolOf('fallback', {}, ['-DGGML_CUDA=ON']),
        poolOf('gpu-only', { devices: [0], provisioning: { ...poolOf('x', {}, ['-DGGML_CUDA=ON']).provisioning, compute_policy: 'gpu-required' } }),
      ])
      await waitFor('the fallback pool to be Ready', async () => app.pool.status('fallback')?.ready === true, BUILD)
      const f = await health(base, 'fallback')
      t.equal(f.state, 'Ready')
      if (f.compute_mode === 'gpu') { t.pass(`a CUDA build succeeded here (nvcc ${nvcc}): nothing falls back`); return }
      t.equal(f.compute_mode, 'cpu')
      t.ok(capture.records().some((r) => r.action === 'fallback' && r.level === 40), 'the fallback is narrated, never silent')
      const settled = async (): Promise<boolean> => (await health(base, 'gpu-only')).last_error !== null || app.pool.status('gpu-only')?.ready === true
      await waitFor('the gpu-required pool to fail or serve', settled, BUILD)
      const g = await health(base, 'gpu-only')
      if (g.ready === true) { t.equal(g.compute_mode, 'gpu', `a CUDA build succeeded here (nvcc ${nvcc}): nothing falls back`); return }
      t.equal(g.ready, false)
      t.match(g.last_error, /engine gate: pool gpu-only: compute_policy is gpu-required, but the CUDA configure failed .*install the CUDA toolkit \(nvcc, cuBLAS\), or set compute_policy to cpu-fallback or cpu-only/)
      const sdk = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'none', maxRetries: 0 })
      t.equal((await sdk.completions.create({ model: 'fallback', prompt: 'Count: 3', max_tokens: 8, temperature: 0 })).choices[0]!.text, '456789')
    })
}
