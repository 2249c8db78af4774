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
