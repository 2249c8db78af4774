import t from 'tap'
import { createProvisionerRegistry } from '../registry.js'
import type { Provisioner, ProvisioningMode } from '../../../sdk/index.js'
import { build } from '../../../test/helpers/build.js'

const provisioner = (name: string, handles: Array<{ engine: string, mode: ProvisioningMode }>): Provisioner => ({
  name,
  handles,
  plan: (pool) => ({ pool_id: pool.id, steps: [] }),
  prepare: async () => { throw new Error('not used') },
})

t.test('provisioners register by name and resolve by (engine, mode), exact engine first (ORCH-3601)', async (t) => {
  const r = createProvisionerRegistry(async () => 'unused')
  r.add(provisioner('external', [{ engine: '*', mode: 'external' }]))
  r.add(provisioner('llamacpp', [{ engine: 'llamacpp', mode: 'source' }, { engine: 'llamacpp', mode: 'external' }]))
  t.equal(r.providerFor('llamacpp', 'external')?.name, 'llamacpp')
  t.equal(r.providerFor('vllm', 'external')?.name, 'external')
  t.equal(r.providerFor('vllm', 'container'), undefined, 'spec §6 scenario 35: no provider for the pair')
  t.equal(r.get('llamacpp')?.name, 'llamacpp')
  t.same(r.list().map((p) => p.name), ['external', 'llamacpp'])
  t.throws(() => r.add(provisioner('external', [])), /already registered/)
})

t.test('app.provisioners is present and empty with no providers enabled', async (t) => {
  const { app } = await build(t)
  t.same(app.provisioners.list(), [])
})

t.test('a provider records its engine build in the catalog through app.provisioners.recordEngine (spec §2.8)', async (t) => {
  const { app } = await build(t)
  const build1 = {
    engine: 'llamacpp',
    version: 'b1',
    build_ref: 'abc',
    digest: 'sha256:00',
    build_flags: ['-DGGML_NATIVE=OFF'],
    artifacts: ['/x/llama-server'],
  }
  const id = await app.provisioners.recordEngine(build1)
  t.equal(id, 'llamacpp:b1@sha256:00')
  t.match(app.catalog.getEngine(id), build1)
  t.equal(await app.provisioners.recordEngine(build1), id, 'the same build again is the same entry')
  t.equal(app.catalog.listEngines().length, 1)
})
