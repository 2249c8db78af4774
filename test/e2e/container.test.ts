import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/build.js'
import { waitFor } from '../helpers/wait.js'
import { freePort } from '../../lib/provision/ports.js'
import { parseSse } from '../fixtures/dataplane.js'
import { DEFAULT_TOKENS } from '../fixtures/engines/fake-engine.js'
import { digestOf, installFakeRuntime, type FakeImage, type FakeRuntime } from '../fixtures/container-runtime/install.js'

// Issue 12 item 3 end to end: the built-in container providers start their engine through a
// container runtime (a fake podman on PATH whose `run` serves the engine's real protocol on the
// published port), the pool manager supervises that foreground `run`, the engine's adapter
// drives it, and a task streams its tokens through the public API. Closing the app stops the
// container with SIGTERM.
t.setTimeout(120_000)

const ORIGINAL_PATH = process.env.PATH

interface Case {
  engine: 'vllm' | 'tgi' | 'triton'
  image: FakeImage
  container: { image: string, tag: string }
  /** The model on disk: a Transformers folder, or a Triton model repository. */
  files: Record<string, string>
  model: string
  adapterOptions?: (port: number) => Record<string, unknown>
  /** The image is only in the registry: the pull passes the outbound gate. */
  remote?: boolean
}

const CASES: Case[] = [
  {
    engine: 'vllm',
    image: { ref: 'vllm/vllm-openai:v0.10.1', engine: 'vllm', labels: { 'org.opencontainers.image.version': '0.10.1' } },
    container: { image: 'vllm/vllm-openai', tag: 'v0.10.1' },
    files: { 'config.json': '{}' },
    model: 'tiny',
  },
  {
    engine: 'tgi',
    image: { ref: 'ghcr.io/huggingface/text-generation-inference:3.3.4', engine: 'tgi' },
    container: { image: 'ghcr.io/huggingface/text-generation-inference', tag: '3.3.4' },
    files: { 'config.json': '{}' },
    model: 'tiny',
    remote: true,
  },
  {
    engine: 'triton',
    image: { ref: 'nvcr.io/nvidia/tritonserver:25.07-trtllm-python-py3', engine: 'triton', env: { TRITON_SERVER_VERSION: '2.59.0' } },
    container: { image: 'nvcr.io/nvidia/tritonserver', tag: '25.07-trtllm-python-py3' },
    files: { 'ensemble/config.pbtxt': 'platform: "ensemble"\n' },
    model: 'ensemble',
    // the fake Triton serves its metrics on the HTTP port, not on 8002
    adapterOptions: (port) => ({ metrics_url: `http://127.0.0.1:${port}/metrics` }),
  },
]

async function modelFolder (root: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, 'model')
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true })
    await writeFile(join(dir, rel), text)
  }
  return dir
}

interface Running { app: FastifyInstance, base: string, rt: FakeRuntime, port: number, root: string }

async function start (t: Test, c: Case): Promise<Running> {
  const rt = installFakeRuntime('podman')
  if (c.remote) rt.addRemote(c.image)
  else rt.addLocal(c.image)
  // the provider looks the runtime up on PATH; the pool manager spawns it by that absolute path
  process.env.PATH = `${rt.bin}${delimiter}${ORIGINAL_PATH}`
  t.teardown(() => { process.env.PATH = ORIGINAL_PATH })
  const root = await mkdtemp(join(tmpdir(), `orc-e2e-container-${c.engine}-`))
  await modelFolder(root, c.files)
  const port = await freePort('127.0.0.1')
  const { app } = await build(t, {
    providers: [c.engine],
    adapters: [c.adapterOptions ? { package: c.engine, options: c.adapterOptions(port) } : c.engine],
    catalog: { root },
    ...(c.remote ? { policy: { allow_outbound_network: true, outbound_allowlist: ['ghcr.io'] } } : {}),
    pools: [{
      id: `${c.engine}-pool`,
      engine: c.engine,
      model: c.model,
      devices: [],
      provisioning: { mode: 'container', compute_policy: 'cpu-only', container: c.container, model: { ref: 'model' }, ports: [port] },
      supervision: { backoff_initial_ms: 100, backoff_max_ms: 500 },
      health_check: { interval_ms: 100, startup_timeout_ms: 30_000 },
    }],
  })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base, rt, port, root }
}

const get = async (url: string): Promise<{ status: number, body: any }> => {
  const r = await request(url)
  const text = await r.body.text()
  return { status: r.statusCode, body: text ? JSON.parse(text) : {} }
}

async function task (base: string, c: Case): Promise<{ events: string[], text: string }> {
  const body = {
    task_id: randomUUID(),
    session_id: randomUUID(),
    workload: 'completion',
    model_ref: c.model,
    engine: c.engine,
    ctx: 0,
    priority: 'interactive',
    prompt: 'Hello there',
    max_tokens: 16,
    deadline_ms: 30_000,
  }
  const admitted = await request(`${base}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const admission = await admitted.body.text()
  if (admitted.statusCode !== 202) throw new Error(`admission ${admitted.statusCode}: ${admission}`)
  const frames = parseSse(await (await request(`${base}/v1/tasks/${body.task_id}/stream`)).body.text())
  return { events: frames.map((f) => f.event).filter((e) => e !== 'metrics'), text: frames.filter((f) => f.event === 'token').map((f) => f.json.t).join('') }
}

for (const c of CASES) {
  t.test(`${c.engine} in a container: Ready through the runtime, a task streams, close stops the container`, async (t) => {
    const { app, base, rt, port, root } = await start(t, c)
    const pool = `${c.engine}-pool`
    const health = await waitFor(`pool ${pool} Ready`, async () => {
      const h = await get(`${base}/v1/pools/${pool}/health`)
      return h.body.ready === true ? h.body : (h.body.state === 'Backoff' ? Promise.reject(new Error(`pool in Backoff: ${h.body.last_error}`)) : undefined)
    }, 30_000)
    t.match(health, { state: 'Ready', engine: c.engine, compute_mode: 'cpu', engine_digest: digestOf(c.image.ref) })

    const started = rt.events().filter((e) => e.event === 'listening')
    t.equal(started.length, 1, 'one container')
    t.match(started[0], { name: `llama-orch-${pool}-${port}`, modelOnHost: join(root, 'model'), ports: [{ host: '127.0.0.1', hostPort: port }] })
    t.same(rt.calls().filter((c) => c.argv[0] === 'pull').length, c.remote ? 1 : 0, c.remote ? 'pulled, the gate allowing its registry' : 'present: not pulled')

    const { events, text } = await task(base, c)
    t.equal(text, DEFAULT_TOKENS.join(''), 'the engine\'s tokens through the public API')
    t.equal(events[0], 'started')
    t.equal(events.at(-1), 'end')

    const engines = (await get(`${base}/v1/catalog/engines`)).body.items as Array<Record<string, unknown>>
    t.match(engines, [{
      id: health.engine_catalog_id,
      engine: c.engine,
      build_ref: c.container.tag,
      digest: digestOf(c.image.ref),
      artifacts: [`${c.container.image}@${digestOf(c.image.ref)}`],
    }], 'the image is recorded in the engine catalog (ORCH-3441)')

    await app.close()
    t.match(rt.events().at(-1), { event: 'SIGTERM', name: `llama-orch-${pool}-${port}` }, 'close sent SIGTERM to the container')
  })
}

t.test('vllm reload: the new container starts beside the serving one (its own port and name), then the old one is stopped', async (t) => {
  const c = CASES[0]!
  const rt = installFakeRuntime('podman')
  rt.addLocal(c.image)
  process.env.PATH = `${rt.bin}${delimiter}${ORIGINAL_PATH}`
  t.teardown(() => { process.env.PATH = ORIGINAL_PATH })
  const root = await mkdtemp(join(tmpdir(), 'orc-e2e-container-reload-'))
  await modelFolder(root, c.files)
  await mkdir(join(root, 'model-b'))
  await writeFile(join(root, 'model-b', 'config.json'), '{"b":1}')
  const { app } = await build(t, {
    providers: ['vllm'],
    adapters: ['vllm'],
    catalog: { root },
    pools: [{
      id: 'v',
      engine: 'vllm',
      model: 'tiny',
      devices: [],
      // no ports: each start takes a free one, so a reload never collides with the engine still serving
      provisioning: { mode: 'container', compute_policy: 'cpu-only', container: c.container, model: { ref: 'model' } },
      health_check: { interval_ms: 100, startup_timeout_ms: 30_000 },
      supervision: { drain_default_deadline_ms: 1000 },
    }],
  })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  await waitFor('pool v Ready', async () => (await get(`${base}/v1/pools/v/health`)).body.ready === true, 30_000)
  const res = await request(`${base}/v1/pools/v/reload`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ new_model_ref: 'model-b' }),
  })
  await res.body.dump()
  t.equal(res.statusCode, 202)
  await waitFor('the reload', async () => (await get(`${base}/v1/pools/v/health`)).body.operation?.state === 'succeeded', 30_000)
  const started = rt.events().filter((e) => e.event === 'listening')
  t.equal(started.length, 2)
  t.not(started[0]!.name, started[1]!.name, 'two containers, two names')
  t.equal(started[1]!.modelOnHost, join(root, 'model-b'))
  await waitFor('the old container stopped', () => rt.events().some((e) => e.event === 'SIGTERM' && e.name === started[0]!.name), 10_000)
  t.notOk(rt.events().some((e) => e.event === 'removed'), 'no serving container was removed as stale')
  t.equal((await task(base, c)).text, DEFAULT_TOKENS.join(''), 'the new engine serves')
})
