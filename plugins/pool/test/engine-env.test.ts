import t from 'tap'
import type { PreparedEngine } from '../../../sdk/index.js'
import { engineEnv, spawnReplica } from '../replica.js'

t.test('an engine inherits only the whitelisted environment, then the pool\'s own env (spec pools §1.7)', async (t) => {
  const from = {
    PATH: '/bin',
    HOME: '/root',
    LC_ALL: 'C',
    CUDA_VISIBLE_DEVICES: '0',
    GGML_CUDA_NO_PINNED: '1',
    HF_TOKEN: 'hf_secret',
    OPENAI_API_KEY: 'sk-secret',
    AWS_SECRET_ACCESS_KEY: 'x',
    NODE_AUTH_TOKEN: 'npm_secret',
    MY_FLAG: 'y',
  }
  t.same(engineEnv({ EXTRA: '1', PATH: '/opt/bin' }, [], from), {
    HOME: '/root',
    LC_ALL: 'C',
    CUDA_VISIBLE_DEVICES: '0',
    GGML_CUDA_NO_PINNED: '1',
    PATH: '/opt/bin',
    EXTRA: '1',
  })
  t.match(engineEnv({}, ['MY_*', 'HF_TOKEN'], from), { MY_FLAG: 'y', HF_TOKEN: 'hf_secret' }, 'policy.engine_env_passthrough adds names and prefixes')
})

t.test('a spawned engine process sees no secret of ours', async (t) => {
  const saved = process.env.HF_TOKEN
  process.env.HF_TOKEN = 'hf_canary_123'
  t.teardown(() => { if (saved === undefined) delete process.env.HF_TOKEN; else process.env.HF_TOKEN = saved })
  const prepared = {
    engine: 'probe',
    version: '0',
    build_ref: null,
    digest: null,
    build_flags: null,
    mode: 'binary',
    compute_mode: 'cpu',
    binary_path: null,
    engine_catalog_id: null,
    bin: process.execPath,
    args: ['-e', 'console.log(JSON.stringify({ hf: process.env.HF_TOKEN ?? null, path: Boolean(process.env.PATH), own: process.env.POOL_VAR }))'],
    env: { POOL_VAR: 'set' },
    ports: [],
    workdir: process.cwd(),
    health: { url: 'http://127.0.0.1:1/health', kind: 'probe' },
  } satisfies PreparedEngine
  const r = spawnReplica(prepared, 'r0')
  t.same(await r.exited, { code: 0, signal: null })
  t.same(JSON.parse(r.tail()), { hf: null, path: true, own: 'set' })
})

t.test('stop waits the engine\'s own stop_grace_ms when it is longer than the caller\'s grace (a container stopping)', async (t) => {
  // an engine that needs 400 ms to shut down after SIGTERM, then exits 0
  const slow = (grace?: number): PreparedEngine => ({
    engine: 'probe',
    version: '0',
    build_ref: null,
    digest: null,
    build_flags: null,
    mode: 'container',
    compute_mode: 'cpu',
    binary_path: null,
    engine_catalog_id: null,
    bin: process.execPath,
    args: ['-e', "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 400)); console.log('up'); setInterval(() => {}, 1000)"],
    env: {},
    ports: [],
    workdir: process.cwd(),
    health: { url: 'http://127.0.0.1:1/health', kind: 'probe' },
    ...(grace !== undefined ? { stop_grace_ms: grace } : {}),
  })
  const started = async (r: ReturnType<typeof spawnReplica>): Promise<void> => {
    while (!r.tail().includes('up')) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const patient = spawnReplica(slow(5000), 'r0')
  await started(patient)
  await patient.stop(50)
  t.same(await patient.exited, { code: 0, signal: null }, 'it finished its own shutdown')
  const hurried = spawnReplica(slow(), 'r1')
  await started(hurried)
  await hurried.stop(50)
  t.same(await hurried.exited, { code: null, signal: 'SIGKILL' }, 'without it, the caller\'s grace applies')
})
