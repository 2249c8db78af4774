import t from 'tap'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { GpuDevice } from '../../../lib/gpu.js'
import { build } from '../../../test/helpers/build.js'
import { CLOSED_POLICY, containerPool, startPrepared } from '../../../test/helpers/container.js'
import { digestOf, installFakeRuntime } from '../../../test/fixtures/container-runtime/install.js'
import { TGI_VERSION } from '../../../test/fixtures/engines/tgi.js'
import { TGI_ENGINE } from '../provisioner.js'
import { createContainerProvisioner } from '../../../lib/provision/container-provider.js'
import { extension } from '../index.js'

const REF = 'ghcr.io/huggingface/text-generation-inference:3.3.4'
const image = { image: 'ghcr.io/huggingface/text-generation-inference', tag: '3.3.4' }
const gpu = (id: number): GpuDevice => ({
  id, vendor: 'NVIDIA', model: 'L4', vram_total_bytes: 24e9, vram_free_bytes: 23e9, vram_used_bytes: 1e9, utilization: 0,
})

async function hfModel (): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'orc-tgi-')), 'tiny')
  await mkdir(dir)
  await writeFile(join(dir, 'config.json'), '{}')
  return dir
}

function setup (kind: 'docker' | 'podman' = 'docker', gpus: GpuDevice[] = []) {
  const rt = installFakeRuntime(kind)
  rt.addLocal({ ref: REF, engine: 'tgi' })
  return { rt, prov: createContainerProvisioner(TGI_ENGINE, { policy: CLOSED_POLICY, env: rt.env, discover: async () => gpus }) }
}

t.test('TGI command line: --model-id on the mount, 0.0.0.0:80 inside, sharded over the GPUs, ctx as token limits', async (t) => {
  const { prov } = setup('docker', [gpu(0), gpu(1)])
  const dir = await hfModel()
  const prov0 = { container: image, compute_policy: 'gpu-required', ports: [18200], flags: ['--dtype', 'bfloat16'] }
  const pool = containerPool('tgi', prov0, { devices: [0, 1], ctx: 2048 })
  const p = await prov.prepare(pool, { model: { id: 'tiny', local_path: dir } })
  const at = p.args.indexOf(`ghcr.io/huggingface/text-generation-inference@${digestOf(REF)}`)
  t.same(p.args.slice(at + 1), [
    '--model-id', '/models', '--hostname', '0.0.0.0', '--port', '80',
    '--num-shard', '2', '--max-total-tokens', '2048', '--max-input-tokens', '2047', '--dtype', 'bfloat16',
  ])
  t.ok(p.args.includes('127.0.0.1:18200:80'))
  t.same(p.args.slice(p.args.indexOf('--gpus'), at), ['--gpus', '"device=0,1"', '--shm-size', '1g'])
  t.equal(p.health.url, 'http://127.0.0.1:18200/health')
  t.same(p.env, {}, 'TGI gets no engine hints')
  const flags = ['--num-shard', '1', '--max-total-tokens', '1024', '--max-input-tokens', '512']
  const own = await prov.prepare({ ...pool, provisioning: { ...pool.provisioning, flags } }, { model: { id: 'tiny', local_path: dir } })
  t.same(own.args.slice(own.args.indexOf('--model-id') + 6), flags, 'the pool\'s flags win')
})

t.test('the prepared run starts a TGI that answers /health and /info on the published port', async (t) => {
  const { rt, prov } = setup('podman')
  const dir = await hfModel()
  const p = await prov.prepare(containerPool('tgi', { container: image }), { model: { id: 'tiny', local_path: dir } })
  t.ok(p.args.includes(`docker.io/${image.image}@${digestOf(REF)}`) || p.args.includes(`${image.image}@${digestOf(REF)}`), 'runs by repository digest')
  const { child, exited } = await startPrepared(t, p)
  const info = await request(new URL('/info', p.health.url)).then((r) => r.body.json()) as { version: string }
  t.equal(info.version, TGI_VERSION)
  t.equal(rt.events().find((e) => e.event === 'listening')!.modelOnHost, dir)
  child.kill('SIGTERM')
  t.equal(await exited, 0)
})

t.test('config check and registration', async (t) => {
  t.same(extension.handles, [{ engine: 'tgi', mode: 'container' }])
  t.same(extension.checkPool!(containerPool('tgi', { container: image, flags: ['--model-id', 'x', '--hostname=::'] })).map((i) => i.path),
    ['/provisioning/flags/0', '/provisioning/flags/2'])
  t.same(extension.checkPool!(containerPool('tgi', { container: image, ports: [1, 2] })).map((i) => i.path), ['/provisioning/ports/1'])
  const { app } = await build(t, { providers: ['tgi'] })
  t.equal(app.provisioners.providerFor('tgi', 'container')?.name, 'tgi')
})
