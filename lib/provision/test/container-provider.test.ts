import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EngineBuild } from '../../../sdk/provisioner.js'
import type { PoolConfig } from '../../../sdk/pool-config.js'
import type { GpuDevice } from '../../gpu.js'
import { manifestOf } from '../../../test/helpers/build.js'
import { digestOf, installFakeRuntime, type FakeRuntime } from '../../../test/fixtures/container-runtime/install.js'
import { containerPoolIssues, createContainerProvisioner, hasFlag, imageVersion, type ContainerEngine } from '../container-provider.js'
import { containerCompute } from '../container-compute.js'

const OPEN = { allow_outbound_network: true, outbound_allowlist: [], allow_package_installs: false, allow_binary_downloads: false }
const CLOSED = { ...OPEN, allow_outbound_network: false }
const REF = 'vllm/vllm-openai:v0.10.1'
const gpu = (id: number): GpuDevice => ({
  id, vendor: 'NVIDIA', model: 'RTX 3090', vram_total_bytes: 24e9, vram_free_bytes: 20e9, vram_used_bytes: 4e9, utilization: 0,
})

/** A minimal engine: what each provider adds is tested in its own folder. */
const ENGINE: ContainerEngine = {
  engine: 'vllm',
  label: 'vLLM',
  exampleImage: 'vllm/vllm-openai',
  containerPorts: [8000, 8002],
  healthPath: '/health',
  reservedFlags: ['--port'],
  multiGpuFlags: ['--shm-size', '1g'],
  env: () => ({ HINT: '1', OVERRIDDEN: 'engine' }),
  args: (pool, ctx) => ['--model', ctx.modelPath, ...(pool.provisioning.flags ?? [])],
}

const poolOf = (prov: Record<string, unknown> = {}, over: Record<string, unknown> = {}): PoolConfig => manifestOf({
  pools: [{
    id: 'v1',
    engine: 'vllm',
    model: 'qwen',
    devices: [],
    provisioning: { mode: 'container', compute_policy: 'cpu-only', container: { image: 'vllm/vllm-openai', tag: 'v0.10.1' }, ...prov },
    ...over,
  }],
}).pools[0]!

async function modelDir (): Promise<{ dir: string, file: string }> {
  const root = await mkdtemp(join(tmpdir(), 'orc-container-model-'))
  const dir = join(root, 'qwen')
  await mkdir(dir)
  await writeFile(join(dir, 'config.json'), '{}')
  const file = join(root, 'tiny.gguf')
  await writeFile(file, 'GGUF')
  return { dir, file }
}

function setup (kind: 'docker' | 'podman' = 'docker', o: { policy?: typeof OPEN, gpus?: GpuDevice[] } = {}) {
  const rt: FakeRuntime = installFakeRuntime(kind)
  const builds: EngineBuild[] = []
  const said: Array<{ action: string, human: string, level: string }> = []
  const prov = createContainerProvisioner(ENGINE, {
    policy: o.policy ?? CLOSED,
    env: { ...rt.env, DOCKER_HOST: 'unix:///run/user/1/docker.sock', HF_TOKEN: 'hf_secret' },
    discover: async () => o.gpus ?? [],
    narrate: () => (action, human, _f, level) => said.push({ action, human, level: level ?? 'info' }),
    registerEngine: async (b) => { builds.push(b); return `engine-${builds.length}` },
  })
  return { rt, prov, builds, said }
}

t.test('plan: the same steps twice, and nothing touched (no runtime call, no port taken)', async (t) => {
  const { rt, prov } = setup()
  const pool = poolOf({ ports: [18000], flags: ['--dtype', 'float16'] })
  const a = prov.plan(pool)
  t.same(prov.plan(pool), a)
  t.same(a.steps.map((s) => s.kind), ['preflight-tools', 'compute-policy', 'image-pull', 'model-fetch', 'run'])
  t.match(a.steps[2]!.detail, /^image=vllm\/vllm-openai tag=v0\.10\.1; skipped when present locally, else gated by policy\.allow_outbound_network \(registry docker\.io\)$/)
  t.equal(a.steps[4]!.detail, 'vLLM container ports=127.0.0.1:18000->8000 127.0.0.1:-->8002 flags=--dtype float16')
  t.match(prov.plan(poolOf({ container: { image: 'vllm/vllm-openai' } })).steps[2]!.detail, /tag=latest \(tag defaulted: not reproducible\)/)
  t.match(prov.plan(poolOf({ ports: null })).steps[4]!.detail, /127\.0\.0\.1:\(free port\)->8000/)
  t.same(rt.calls(), [])
})

t.test('prepare (docker, cpu-only, local image): the foreground run, recorded in the engine catalog', async (t) => {
  const { rt, prov, builds, said } = setup('docker')
  rt.addLocal({ ref: REF, engine: 'vllm', labels: { 'org.opencontainers.image.version': '0.10.1', 'org.opencontainers.image.revision': '0123456789abcdef' } })
  const { dir } = await modelDir()
  const pool = poolOf({ ports: [18001, 18003], env: { OVERRIDDEN: 'pool', HF_TOKEN: 'hf_pool' }, flags: ['--dtype', 'float16'] })
  const p = await prov.prepare(pool, { model: { id: 'qwen', local_path: dir } })
  t.same(p.args, [
    'run', '--rm', '--name', 'llama-orch-v1-18001', '--label', 'llama-orch.pool=v1',
    '-p', '127.0.0.1:18001:8000', '-p', '127.0.0.1:18003:8002',
    '-e', 'HINT', '-e', 'OVERRIDDEN', '-e', 'HF_TOKEN', '-v', `${dir}:/models:ro`,
    `vllm/vllm-openai@${digestOf(REF)}`, '--model', '/models', '--dtype', 'float16',
  ])
  t.notOk(p.args.join(' ').includes('hf_pool'), 'no env value on the command line')
  t.same(p.env, { DOCKER_HOST: 'unix:///run/user/1/docker.sock', HINT: '1', OVERRIDDEN: 'pool', HF_TOKEN: 'hf_pool' },
    'the CLI gets its daemon address and the values behind -e; the provider\'s own HF_TOKEN stays out')
  t.match(p, {
    engine: 'vllm',
    mode: 'container',
    compute_mode: 'cpu',
    bin: rt.path,
    version: '0.10.1+0123456789ab',
    build_ref: 'v0.10.1',
    digest: digestOf(REF),
    build_flags: null,
    binary_path: null,
    engine_catalog_id: 'engine-1',
    ports: [18001, 18003],
    health: { url: 'http://127.0.0.1:18001/health', kind: 'vllm' },
  })
  t.same(builds, [{
    engine: 'vllm',
    version: '0.10.1+0123456789ab',
    build_ref: 'v0.10.1',
    digest: digestOf(REF),
    build_flags: null,
    artifacts: [`vllm/vllm-openai@${digestOf(REF)}`],
    compute_mode: 'cpu',
  }])
  t.same(rt.calls().map((c) => c.argv.slice(0, 2).join(' ')), ['--version', 'image inspect', 'rm -f'], 'no pull: the image was present')
  t.ok(said.some((s) => s.action === 'preflight' && s.human === 'pool v1 uses Docker version 27.3.1, build ce12230'))
})

t.test('prepare: a model file is mounted by its folder; a free port when ports are absent; latest is warned about', async (t) => {
  const { rt, prov, said } = setup('podman', { policy: OPEN })
  rt.addRemote({ ref: 'vllm/vllm-openai:latest', engine: 'vllm' })
  const { file } = await modelDir()
  const progress: string[] = []
  const p = await prov.prepare(poolOf({ container: { image: 'vllm/vllm-openai' } }),
    { model: { id: 'tiny', local_path: file }, progress: (x) => progress.push(x.line ?? '') })
  t.ok(p.args.includes(`${join(file, '..')}:/models:ro`))
  t.same(p.args.slice(-2), ['--model', '/models/tiny.gguf'])
  t.ok(p.ports[0]! > 0 && p.ports.length === 1, 'one free port, the second container port unpublished')
  t.equal(p.health.url, `http://127.0.0.1:${p.ports[0]}/health`)
  t.equal(p.build_ref, 'latest')
  t.equal(p.version, 'latest', 'no version label: the tag')
  t.ok(said.some((s) => s.level === 'warn' && s.human === 'pool v1 image vllm/vllm-openai has no tag: latest is not reproducible'))
  t.ok(said.some((s) => s.human === 'pool v1 image vllm/vllm-openai:latest pulled'))
  t.ok(progress.some((l) => l.startsWith('Digest: ')), 'pull progress reaches the caller')
})

t.test('prepare: GPU flags from the device mask, per runtime; more than one GPU adds the engine\'s shared-memory flags', async (t) => {
  const { dir } = await modelDir()
  const gpuPool = poolOf({ compute_policy: 'gpu-required' }, { devices: [0, 1] })
  for (const kind of ['docker', 'podman'] as const) {
    const { rt, prov } = setup(kind, { gpus: [gpu(0), gpu(1)] })
    rt.addLocal({ ref: REF, engine: 'vllm' })
    const p = await prov.prepare(gpuPool, { model: { id: 'qwen', local_path: dir } })
    t.equal(p.compute_mode, 'gpu')
    const image = p.args.findIndex((a) => a.includes('@sha256:'))
    const flags = p.args.slice(p.args.indexOf(`${dir}:/models:ro`) + 1, image)
    t.same(flags, kind === 'docker'
      ? ['--gpus', '"device=0,1"', '--shm-size', '1g']
      : ['--device', 'nvidia.com/gpu=0', '--device', 'nvidia.com/gpu=1', '--shm-size', '1g'], kind)
  }
  const { rt, prov } = setup('docker', { gpus: [gpu(0), gpu(1)] })
  rt.addLocal({ ref: REF, engine: 'vllm' })
  const one = await prov.prepare(poolOf({ compute_policy: 'gpu-required' }, { devices: [1] }), { model: { id: 'qwen', local_path: dir } })
  t.ok(one.args.includes('device=1') && !one.args.includes('--shm-size'), 'one GPU: no shared-memory flag')
})

t.test('compute policy: gpu-required fails fast without the masked GPU; cpu-fallback says so and runs without GPUs', async (t) => {
  const pool = (policy: string, devices: number[]): PoolConfig => poolOf({ compute_policy: policy }, { devices })
  await t.rejects(containerCompute(pool('gpu-required', [0, 2]), async () => [gpu(0)]), {
    code: 'ORC_ERR_CONTAINER_GPU_REQUIRED',
    message: /^pool v1: compute_policy is gpu-required, but device 2 of the pool's mask is not present \(found 0: RTX 3090/,
  })
  await t.rejects(containerCompute(pool('gpu-required', [0]), async () => []), { message: /but no suitable GPU was found/ })
  const said: string[] = []
  t.same(await containerCompute(pool('cpu-fallback', [0]), async () => [], (_a, h, _f, level) => said.push(`${level}: ${h}`)), { mode: 'cpu', devices: [] })
  t.same(said, ['warn: pool v1 container runs without GPU (compute_policy cpu-fallback)'])
  t.same(await containerCompute(pool('cpu-fallback', []), async () => [gpu(0), gpu(1)]), { mode: 'gpu', devices: [0, 1] }, 'an empty mask names the GPUs found')
  let looked = false
  t.same(await containerCompute(pool('cpu-only', [0]), async () => { looked = true; return [gpu(0)] }), { mode: 'cpu', devices: [] })
  t.notOk(looked, 'cpu-only never looks for GPUs')
})

t.test('prepare: a leftover container on the pool\'s port is removed before the run', async (t) => {
  const { rt, prov, said } = setup('docker')
  rt.addLocal({ ref: REF, engine: 'vllm' })
  const { dir } = await modelDir()
  // a container whose CLI died: the runtime still lists it under the pool's name
  const stale = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.teardown(() => { stale.kill('SIGKILL') })
  await mkdir(join(rt.dir, 'containers'), { recursive: true })
  await writeFile(join(rt.dir, 'containers', 'llama-orch-v1-18010'), String(stale.pid))
  const gone = new Promise((resolve) => stale.once('exit', (_c, s) => resolve(s)))
  await prov.prepare(poolOf({ ports: [18010] }), { model: { id: 'qwen', local_path: dir } })
  t.equal(await gone, 'SIGKILL')
  t.match(rt.events(), [{ event: 'removed', name: 'llama-orch-v1-18010', pid: stale.pid }])
  t.ok(said.some((s) => s.level === 'warn' && s.human === 'pool v1 removed a leftover container llama-orch-v1-18010'))
})

t.test('prepare refuses early: no model, no image, no runtime; the outbound gate before any pull', async (t) => {
  const { rt, prov } = setup('docker')
  const { dir } = await modelDir()
  await t.rejects(prov.prepare(poolOf()),
    { code: 'ORC_ERR_CONTAINER_NO_MODEL', message: 'pool v1: the vllm provider needs the resolved model (prepare(pool, { model }))' })
  await t.rejects(prov.prepare(poolOf({ mode: null, container: null }), { model: { id: 'qwen', local_path: dir } }), {
    code: 'ORC_ERR_CONTAINER_NO_IMAGE',
    message: 'pool v1: engine vllm runs in a container and needs provisioning.container.image; set it (for example vllm/vllm-openai) and a pinned tag',
  })
  rt.addRemote({ ref: REF, engine: 'vllm' })
  await t.rejects(prov.prepare(poolOf(), { model: { id: 'qwen', local_path: dir } }),
    { code: 'ORC_ERR_CONTAINER_POLICY', message: /policy\.allow_outbound_network is false/ })
  t.notOk(rt.calls().some((c) => c.argv[0] === 'pull' || c.argv[0] === 'run'))
  const bare = createContainerProvisioner(ENGINE, { policy: OPEN, env: { PATH: await mkdtemp(join(tmpdir(), 'orc-empty-')) } })
  await t.rejects(bare.prepare(poolOf(), { model: { id: 'qwen', local_path: dir } }), { code: 'ORC_ERR_CONTAINER_RUNTIME_MISSING' })
})

t.test('the version stamp: version label, else the engine\'s own, else the tag, else the digest; the revision as build metadata', async (t) => {
  const info = { id: 'sha256:1', digest: `sha256:${'d'.repeat(64)}`, runRef: 'x', labels: {}, env: {} }
  t.equal(imageVersion({ ...info, labels: { 'org.opencontainers.image.version': '3.3.4' } }, 'v3', '9'), '3.3.4')
  t.equal(imageVersion(info, 'v3', '2.59.0'), '2.59.0')
  t.equal(imageVersion(info, 'v3'), 'v3')
  t.equal(imageVersion(info, null), `sha256:${'d'.repeat(12)}`)
  t.equal(imageVersion({ ...info, labels: { 'org.opencontainers.image.revision': 'abcdef0123456789' } }, 'v3'), 'v3+abcdef012345')
  t.ok(hasFlag(['--max-model-len=4096'], '--max-model-len'))
  t.ok(hasFlag(['-tp', '2'], '--tensor-parallel-size', '-tp'))
  t.notOk(hasFlag(['--max-model-len-x'], '--max-model-len'))
})

t.test('config check: what a container pool asks for that would be ignored or fail late', async (t) => {
  t.same(containerPoolIssues(poolOf({ ports: [1] }), ENGINE), [])
  t.same(containerPoolIssues(poolOf({ mode: null, container: null }), ENGINE), [{
    path: '/provisioning/container/image',
    message: 'is required: engine vllm runs in a container when provisioning.mode is absent; set it (for example vllm/vllm-openai) and a pinned tag',
  }])
  const asks = {
    container: { image: 'vllm/vllm-openai:v1', tag: 'v2' }, ports: [1, 2, 3], flags: ['--dtype', 'half', '--port=9000'], compute_policy: 'cpu-fallback',
  }
  t.same(containerPoolIssues(poolOf(asks, {
    devices: [0, 1], tensor_split: [1, 1],
  }), ENGINE).map((i) => i.path), ['/provisioning/container/tag', '/provisioning/ports/2', '/provisioning/flags/2', '/tensor_split'])
})

t.test('plan wording for GPUs, a digest pin, a missing image and a model ref', async (t) => {
  const { prov } = setup()
  const D = digestOf(REF)
  const pinned = { compute_policy: 'gpu-required', container: { image: 'vllm/vllm-openai', tag: D }, model: { ref: 'hf:Qwen/x' } }
  const steps = prov.plan(poolOf(pinned, { devices: [0, 1] })).steps
  t.equal(steps[1]!.detail, 'gpu-required: GPUs 0,1 when present')
  t.match(steps[2]!.detail, new RegExp(`^image=vllm/vllm-openai digest=${D};`))
  t.equal(steps[3]!.detail, 'ref=hf:Qwen/x via the model provisioner, mounted read-only at /models')
  t.equal(prov.plan(poolOf({ compute_policy: 'cpu-fallback' })).steps[1]!.detail, 'cpu-fallback: GPUs (those found) when present')
  t.equal(prov.plan(poolOf({ mode: null, container: null })).steps[2]!.detail, 'provisioning.container.image is not set')
})

t.test('an engine without optional hooks, a provisioner without catalog or narration: still a complete spawn description', async (t) => {
  const rt = installFakeRuntime('docker')
  rt.addLocal({ ref: REF, engine: 'vllm' })
  const bare: ContainerEngine = {
    engine: 'vllm', label: 'vLLM', exampleImage: 'x', containerPorts: [8000], healthPath: '/h', reservedFlags: [], args: () => ['serve'],
  }
  const prov = createContainerProvisioner(bare, { policy: CLOSED, env: rt.env, discover: async () => [gpu(0), gpu(1)] })
  const { dir } = await modelDir()
  const p = await prov.prepare(poolOf({ compute_policy: 'gpu-required' }, { devices: [0, 1] }), {
    model: { id: 'qwen', local_path: dir }, signal: new AbortController().signal,
  })
  t.match(p, { engine_catalog_id: null, env: {}, version: 'v0.10.1', compute_mode: 'gpu' })
  t.same(p.args.slice(p.args.indexOf('--gpus')), ['--gpus', '"device=0,1"', `vllm/vllm-openai@${digestOf(REF)}`, 'serve'],
    'no engine shared-memory flags declared, none added')
})
