import t from 'tap'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { build } from '../../../test/helpers/build.js'
import { CLOSED_POLICY, containerPool, startPrepared } from '../../../test/helpers/container.js'
import { digestOf, installFakeRuntime } from '../../../test/fixtures/container-runtime/install.js'
import { TRITON_VERSION } from '../../../test/fixtures/engines/triton.js'
import { configNotes, TRITON_ENGINE } from '../provisioner.js'
import { createContainerProvisioner } from '../../../lib/provision/container-provider.js'
import { extension } from '../index.js'

const REF = 'nvcr.io/nvidia/tritonserver:25.07-trtllm-python-py3'
const image = { image: 'nvcr.io/nvidia/tritonserver', tag: '25.07-trtllm-python-py3' }

/** A model repository: one directory per model with its config.pbtxt. */
async function repository (configs: Record<string, string> = { ensemble: 'name: "ensemble"\nplatform: "ensemble"\n' }): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'orc-triton-')), 'repo')
  for (const [name, config] of Object.entries(configs)) {
    await mkdir(join(dir, name), { recursive: true })
    await writeFile(join(dir, name, 'config.pbtxt'), config)
  }
  return dir
}

function setup () {
  const rt = installFakeRuntime('docker')
  rt.addLocal({ ref: REF, engine: 'triton', env: { TRITON_SERVER_VERSION: TRITON_VERSION, NVIDIA_TRITON_SERVER_VERSION: '25.07', TRTLLM_VERSION: '1.0.0' } })
  const said: Array<{ human: string, level: string }> = []
  const prov = createContainerProvisioner(TRITON_ENGINE, {
    policy: CLOSED_POLICY,
    env: rt.env,
    narrate: () => (_a, human, _f, level) => said.push({ human, level: level ?? 'info' }),
  })
  return { rt, prov, said }
}

t.test('Triton: tritonserver on the mounted repository, HTTP/gRPC/metrics ports as given, version from the image', async (t) => {
  const { prov } = setup()
  const dir = await repository()
  const p = await prov.prepare(containerPool('triton', { container: image, ports: [18300, 18301, 18302], flags: ['--log-verbose=1'] }, { model: 'ensemble' }),
    { model: { id: 'ensemble', local_path: dir } })
  const at = p.args.indexOf(`nvcr.io/nvidia/tritonserver@${digestOf(REF)}`)
  t.same(p.args.slice(at + 1), ['tritonserver', '--model-repository=/models', '--log-verbose=1'])
  t.same(p.args.filter((_a, i) => p.args[i - 1] === '-p'), ['127.0.0.1:18300:8000', '127.0.0.1:18301:8001', '127.0.0.1:18302:8002'])
  t.ok(p.args.includes(`${dir}:/models:ro`), 'the repository itself is the mount')
  t.equal(p.health.url, 'http://127.0.0.1:18300/v2/health/ready')
  t.equal(p.version, `${TRITON_VERSION}+trtllm-1.0.0`, 'Triton and TensorRT-LLM versions from the image environment')
  t.equal(p.build_ref, '25.07-trtllm-python-py3')
})

t.test('Triton: a model file is refused before any pull; configs that batch dynamically or run many instances are said', async (t) => {
  const { rt, prov, said } = setup()
  const file = join(await mkdtemp(join(tmpdir(), 'orc-triton-file-')), 'model.plan')
  await writeFile(file, 'x')
  await t.rejects(prov.prepare(containerPool('triton', { container: image }), { model: { id: 'm', local_path: file } }), {
    code: 'ORC_ERR_TRITON_MODEL_REPO',
    message: new RegExp(`^pool triton0: Triton serves a model repository, a directory of <model>/config.pbtxt, but ${file} is a file`),
  })
  t.notOk(rt.calls().some((c) => c.argv[0] === 'image'), 'refused before the image was looked at')
  const dir = await repository({
    ensemble: 'platform: "ensemble"\n',
    tensorrt_llm: 'backend: "tensorrtllm"\ndynamic_batching {\n  max_queue_delay_microseconds: 100\n}\ninstance_group [\n  { count: 2\n kind: KIND_GPU }\n]\n',
  })
  await prov.prepare(containerPool('triton', { container: image }), { model: { id: 'm', local_path: dir } })
  t.same(said.filter((s) => s.level === 'warn').map((s) => s.human), [
    'Triton model tensorrt_llm uses dynamic_batching: batches vary, so outputs may too',
    'Triton model tensorrt_llm runs 2 instances; one instance_group of count 1 is deterministic',
  ])
  t.same(configNotes('m', 'instance_group [ { count: 1 } ]'), [], 'one instance of count 1 is fine')
  t.same(configNotes('m', 'instance_group [ { kind: KIND_CPU }, { kind: KIND_GPU } ]'),
    ['Triton model m runs 2 instances; one instance_group of count 1 is deterministic'])
})

t.test('the prepared run starts a Triton that is ready and reports its version', async (t) => {
  const { prov } = setup()
  const p = await prov.prepare(containerPool('triton', { container: image }), { model: { id: 'm', local_path: await repository() } })
  const { child, exited } = await startPrepared(t, p)
  const v = await request(new URL('/v2', p.health.url)).then((r) => r.body.json()) as { version: string }
  t.equal(v.version, TRITON_VERSION)
  child.kill('SIGTERM')
  t.equal(await exited, 0)
})

t.test('config check and registration: ctx cannot be honoured, ports beyond metrics are refused', async (t) => {
  t.same(extension.handles, [{ engine: 'triton', mode: 'container' }])
  const pool = containerPool('triton', { container: image, ports: [1, 2, 3, 4], flags: ['--http-port=9000'] }, { ctx: 4096 })
  t.same(extension.checkPool!(pool).map((i) => i.path),
    ['/provisioning/ports/3', '/provisioning/flags/0', '/ctx'])
  const { app } = await build(t, { providers: ['triton'] })
  t.equal(app.provisioners.providerFor('triton', 'container')?.name, 'triton')
})
