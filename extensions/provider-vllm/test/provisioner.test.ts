import t from 'tap'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { GpuDevice } from '../../../lib/gpu.js'
import { build } from '../../../test/helpers/build.js'
import { CLOSED_POLICY, containerPool, startPrepared } from '../../../test/helpers/container.js'
import { digestOf, installFakeRuntime } from '../../../test/fixtures/container-runtime/install.js'
import { VLLM_ENGINE } from '../provisioner.js'
import { createContainerProvisioner } from '../../../lib/provision/container-provider.js'
import { extension } from '../index.js'

const REF = 'vllm/vllm-openai:v0.10.1'
const image = { image: 'vllm/vllm-openai', tag: 'v0.10.1' }
const gpu = (id: number): GpuDevice => ({
  id, vendor: 'NVIDIA', model: 'A100', vram_total_bytes: 80e9, vram_free_bytes: 79e9, vram_used_bytes: 1e9, utilization: 0,
})

async function hfModel (): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'orc-vllm-')), 'Qwen2.5-0.5B-Instruct')
  await mkdir(dir)
  await writeFile(join(dir, 'config.json'), '{"architectures":["Qwen2ForCausalLM"]}')
  return dir
}

function setup (kind: 'docker' | 'podman' = 'docker', gpus: GpuDevice[] = []) {
  const rt = installFakeRuntime(kind)
  rt.addLocal({ ref: REF, engine: 'vllm' })
  const prov = createContainerProvisioner(VLLM_ENGINE, { policy: CLOSED_POLICY, env: rt.env, discover: async () => gpus })
  return { rt, prov }
}

t.test('vLLM command line: the mounted model under the pool\'s name on 0.0.0.0:8000, then the pool flags', async (t) => {
  const { prov } = setup()
  const dir = await hfModel()
  const pool = containerPool('vllm', { container: image, ports: [18100], flags: ['--dtype', 'float16'] })
  const p = await prov.prepare(pool, { model: { id: 'tiny', local_path: dir } })
  const at = p.args.indexOf(`vllm/vllm-openai@${digestOf(REF)}`)
  t.same(p.args.slice(at + 1), ['--model', '/models', '--served-model-name', 'tiny', '--host', '0.0.0.0', '--port', '8000', '--dtype', 'float16'])
  t.ok(p.args.includes('127.0.0.1:18100:8000'), 'the host port publishes the container port 8000')
  t.same(p.env, { VLLM_ENABLE_V1_MULTIPROCESSING: '0' }, 'one slot: the determinism hint (spec pools §2.6)')
  t.ok(p.args.includes('VLLM_ENABLE_V1_MULTIPROCESSING'))
  t.equal(p.health.url, 'http://127.0.0.1:18100/health')
})

t.test('vLLM: ctx, slots and GPUs map to its flags unless the pool\'s flags set them; four slots drop the hint', async (t) => {
  const { prov } = setup('podman', [gpu(0), gpu(1)])
  const dir = await hfModel()
  const pool = containerPool('vllm', { container: image, compute_policy: 'gpu-required' }, { devices: [0, 1], ctx: 4096, slots_total: 4 })
  const p = await prov.prepare(pool, { model: { id: 'tiny', local_path: dir } })
  const engineArgs = p.args.slice(p.args.indexOf('--model'))
  t.same(engineArgs.slice(8), ['--tensor-parallel-size', '2', '--max-model-len', '4096', '--max-num-seqs', '4'])
  t.same(p.env, {}, 'no multiprocessing hint with 4 slots')
  t.equal(p.compute_mode, 'gpu')
  const own = await prov.prepare({ ...pool, provisioning: { ...pool.provisioning, flags: ['-tp', '1', '--max-model-len=2048', '--max-num-seqs', '2'] } },
    { model: { id: 'tiny', local_path: dir } })
  t.same(own.args.slice(own.args.indexOf('--model') + 8), ['-tp', '1', '--max-model-len=2048', '--max-num-seqs', '2'], 'the pool\'s own flags win, not doubled')
  t.same(await prov.prepare({ ...pool, slots_total: 1, provisioning: { ...pool.provisioning, env: { VLLM_ENABLE_V1_MULTIPROCESSING: '1' } } },
    { model: { id: 'tiny', local_path: dir } }).then((x) => x.env), { VLLM_ENABLE_V1_MULTIPROCESSING: '1' }, 'the pool\'s env overrides the hint')
})

t.test('the prepared run starts a vLLM that answers its health and OpenAI routes; SIGTERM stops the container', async (t) => {
  const { rt, prov } = setup()
  const dir = await hfModel()
  const p = await prov.prepare(containerPool('vllm', { container: image }), { model: { id: 'tiny', local_path: dir } })
  const { child, exited } = await startPrepared(t, p)
  const models = await request(new URL('/v1/models', p.health.url)).then((r) => r.body.json()) as { data: Array<{ id: string }> }
  t.equal(models.data[0]!.id, 'tiny')
  const started = rt.events().find((e) => e.event === 'listening')!
  t.equal(started.modelOnHost, dir, 'the engine found the model through the read-only mount')
  t.same(started.env, { VLLM_ENABLE_V1_MULTIPROCESSING: '0' }, 'the env reached the container by name')
  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(rt.events().at(-1), { event: 'SIGTERM', name: `llama-orch-vllm0-${p.ports[0]}` })
})

t.test('config check: vLLM sets model, name, host and port itself; an absent mode needs an image', async (t) => {
  t.same(extension.handles, [{ engine: 'vllm', mode: 'container' }])
  const issues = extension.checkPool!(containerPool('vllm', { container: image, flags: ['--port', '9000', '--served-model-name=x', '--dtype', 'half'] }))
  t.same(issues.map((i) => i.path), ['/provisioning/flags/0', '/provisioning/flags/2'])
  t.match(issues[0]!.message, /^--port is set by the vllm provider/)
  t.same(extension.checkPool!(containerPool('vllm', { mode: null })).map((i) => i.path), ['/provisioning/container/image'])
})

t.test('the built-in provider `vllm` registers itself and takes no options', async (t) => {
  const { app } = await build(t, { providers: ['vllm'] })
  t.equal(app.provisioners.providerFor('vllm', 'container')?.name, 'vllm')
  const err = await build(t, { providers: [{ package: 'vllm', options: { image: 'x' } }] }).catch((e: Error) => e)
  t.match(String(err), /\/providers\/0\/options/)
})
