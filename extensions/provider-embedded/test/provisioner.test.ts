import t from 'tap'
import { availableParallelism } from 'node:os'
import type { PoolConfig } from '../../../sdk/pool-config.js'
import { manifestOf, build } from '../../../test/helpers/build.js'
import { computeVerdict, createEmbeddedProvisioner, defaultThreads, flagValue, WORKER_ENTRY } from '../provisioner.js'
import { freePort } from '../../../lib/provision/ports.js'
import { engineDigest, engineVersion } from '../version.js'
import type { GpuDevice } from '../../../lib/gpu.js'

const poolOf = (over: Record<string, unknown> = {}, prov: Record<string, unknown> = {}): PoolConfig =>
  manifestOf({
    pools: [{ id: 'p', engine: 'llamacpp', model: 'tiny', devices: [], provisioning: { mode: 'embedded', compute_policy: 'cpu-only', ...prov }, ...over }],
  }).pools[0]!
const GPU: GpuDevice = { id: 0, vendor: 'NVIDIA', model: 'RTX 4090', vram_total_bytes: 24e9, vram_free_bytes: 20e9, vram_used_bytes: 4e9, utilization: 3 }
const model = { id: 'file:/m/tiny.gguf', local_path: '/m/tiny.gguf' }

t.test('prepare: a spawn description for the worker, 1 thread on ≤ 2 cores, llama-server flags (decision 2)', async (t) => {
  const prov = createEmbeddedProvisioner({ cores: 2 })
  t.same(prov.handles, [{ engine: 'llamacpp', mode: 'embedded' }])
  const p = await prov.prepare(poolOf(), { model })
  t.match(p, {
    engine: 'llamacpp',
    mode: 'embedded',
    compute_mode: 'cpu',
    bin: process.execPath,
    version: engineVersion(),
    digest: engineDigest(),
    health: { kind: 'llamacpp' },
  })
  t.match(p.version, /^node-llama-cpp-\d+\.\d+\.\d+\+llama\.cpp-/)
  const args = p.args.slice(p.args.indexOf(WORKER_ENTRY))
  t.same(args, [
    WORKER_ENTRY, '--model', '/m/tiny.gguf', '--host', '127.0.0.1', '--port', String(p.ports[0]),
    '--threads', '1', '--ctx-size', '2048', '--parallel', '1', '--alias', 'tiny',
    '--metrics', '--gpu', 'off', '--exit-on-stdin-close',
  ])
  t.equal(p.health.url, `http://127.0.0.1:${p.ports[0]}/health`)
  t.same(p.args.slice(0, p.args.indexOf(WORKER_ENTRY)), process.execArgv, 'from the TypeScript sources the loader travels along')
  await t.rejects(prov.prepare(poolOf()), { message: 'pool p: the embedded provisioner needs the resolved model (prepare(pool, { model }))' })
})

t.test('prepare records the engine build through registerEngine and returns its catalog id (ORCH-3441)', async (t) => {
  const seen: unknown[] = []
  const p = await createEmbeddedProvisioner({ registerEngine: async (e) => { seen.push(e); return 'llamacpp:x@y' } }).prepare(poolOf(), { model })
  t.equal(p.engine_catalog_id, 'llamacpp:x@y')
  t.match(seen, [{ engine: 'llamacpp', version: engineVersion(), digest: engineDigest(), artifacts: [WORKER_ENTRY] }])
  t.equal((await createEmbeddedProvisioner().prepare(poolOf(), { model })).engine_catalog_id, null, 'without a catalog: null')
})

t.test('threads, slots, ctx and port come from the pool, its flags, then the provider option', async (t) => {
  const p = await createEmbeddedProvisioner({ threads: 3 }).prepare(
    poolOf({ ctx: 512, slots_total: 2 }, { ports: [18099], flags: ['--metrics'], env: { A: 'b' } }),
    { model }
  )
  t.same(p.ports, [18099])
  t.match(p.args.join(' '), '--threads 3 --ctx-size 512 --parallel 2')
  t.same(p.env, { A: 'b' })
  const f = await createEmbeddedProvisioner({ threads: 3 }).prepare(poolOf({}, { flags: ['-t', '2', '--parallel', '4', '-c', '1024'] }), { model })
  t.match(f.args.join(' '), '--threads 2 --ctx-size 1024 --parallel 4')
  t.same(f.build_flags, ['threads=2', 'parallel=4', 'ctx=1024', 'gpu=cpu'])
  t.equal(defaultThreads(1), 1)
  t.equal(defaultThreads(2), 1)
  t.equal(defaultThreads(8), 4)
  t.equal(defaultThreads(64), 8)
  t.equal(defaultThreads(), defaultThreads(availableParallelism()))
  t.equal(flagValue(null, '-t'), undefined)
  t.throws(() => flagValue(['--threads', 'many'], '--threads'), { message: 'flag --threads needs a positive integer, got "many"' })
  t.ok(await freePort('127.0.0.1') > 0)
  const plan = createEmbeddedProvisioner().plan(poolOf())
  t.same(plan.steps.map((s) => s.kind), ['preflight', 'compute-policy', 'model-fetch', 'run'])
})

t.test('compute policy (decision 1): cpu-only never looks, gpu-required fails fast with guidance, cpu-fallback narrates', async (t) => {
  const said: Array<{ fields: Record<string, unknown>, human: string, level?: string }> = []
  const narrate = (fields: Record<string, unknown>, human: string, level?: string) => { said.push({ fields, human, ...(level ? { level } : {}) }) }
  let looked = 0
  const none = async () => { looked++; return [] }
  t.same(await computeVerdict(poolOf(), { discover: none, narrate }), { mode: 'cpu', devices: [] })
  t.equal(looked, 0, 'cpu-only does not even discover')
  await t.rejects(computeVerdict(poolOf({ devices: [0] }, { compute_policy: 'gpu-required' }), { discover: none }),
    {
      message: 'pool p: compute_policy is gpu-required, but no suitable GPU was found (systeminformation lists none with ≥ 1 GiB VRAM); ' +
        'install the GPU driver and check `devices`, or set compute_policy to cpu-fallback or cpu-only',
    })
  await t.rejects(computeVerdict(poolOf({ devices: [1] }, { compute_policy: 'gpu-required' }), { discover: async () => [GPU] }),
    { message: /device 1 of the pool's mask is not present \(found 0: RTX 4090/ })
  t.same(await computeVerdict(poolOf({}, { compute_policy: 'cpu-fallback' }), { discover: none, narrate }), { mode: 'cpu', devices: [] })
  t.match(said.at(-1), {
    fields: { actor: 'engine-provisioner', action: 'fallback', target: 'p', compute_mode: 'cpu' },
    human: 'pool p falls back to CPU: no usable GPU (compute_policy cpu-fallback)',
    level: 'warn',
  })
  const gpu = await createEmbeddedProvisioner({ discover: async () => [GPU], narrate }).prepare(
    poolOf({ devices: [0] }, { compute_policy: 'gpu-required' }),
    { model }
  )
  t.match(gpu, { compute_mode: 'gpu', env: { CUDA_VISIBLE_DEVICES: '0' } })
  t.match(gpu.args.join(' '), '--gpu auto --require-gpu')
  t.match(said.at(-1), { fields: { action: 'prepare', compute_mode: 'gpu' } })
  t.same(
    await computeVerdict(poolOf({}, { compute_policy: 'cpu-fallback' }), { discover: async () => [GPU, { ...GPU, id: 1 }] }),
    { mode: 'gpu', devices: [0, 1] }
  )
})

t.test('VRAM fit (spec pools §1.5): a model too big for the devices\' free VRAM fails fast under gpu-required, falls back under cpu-fallback', async (t) => {
  const said: Array<{ human: string, level?: string }> = []
  const narrate = (_f: Record<string, unknown>, human: string, level?: string) => { said.push({ human, ...(level ? { level } : {}) }) }
  const small = { ...GPU, vram_free_bytes: 2 * 1024 ** 3 }
  const need = 4 * 1024 ** 3
  await t.rejects(computeVerdict(poolOf({ devices: [0] }, { compute_policy: 'gpu-required' }), { discover: async () => [small] }, need),
    { message: /gpu-required, but the model needs about 4096 MiB of VRAM and 0: RTX 4090 .* has 2048 MiB free; free VRAM, use a smaller model or more devices/ })
  t.same(await computeVerdict(poolOf({}, { compute_policy: 'cpu-fallback' }), { discover: async () => [small], narrate }, need), { mode: 'cpu', devices: [] })
  t.match(said.at(-1), { human: 'pool p falls back to CPU: not enough free VRAM (compute_policy cpu-fallback)', level: 'warn' })
  t.same(
    await computeVerdict(poolOf({}, { compute_policy: 'cpu-fallback' }), { discover: async () => [small, { ...small, id: 1 }, { ...small, id: 2 }] }, need),
    { mode: 'gpu', devices: [0, 1, 2] },
    'three devices together hold it'
  )
  t.same(
    await computeVerdict(
      poolOf({ devices: [1] }, { compute_policy: 'gpu-required' }),
      { discover: async () => [small, { ...GPU, id: 1 }] },
      need
    ).then((v) => v.mode),
    'gpu',
    'only the masked device counts, and it is big enough'
  )
})

t.test('the built-in provider `embedded` registers itself and validates its options', async (t) => {
  const { app, capture } = await build(t, { providers: [{ package: 'embedded', options: { threads: 2 } }] })
  t.ok(app.provisioners.providerFor('llamacpp', 'embedded'))
  t.equal(app.provisioners.get('embedded')!.name, 'embedded')
  t.ok(capture.records().some((r) => r.action === 'load' && r.target === 'embedded' && r.builtin === true))
  const err = await build(t, { providers: [{ package: 'embedded', options: { threads: 0 } }] }).catch((e: Error) => e)
  t.match(String(err), /\/providers\/0\/options\/threads/)
})
