import t from 'tap'
import { createModelGate } from '../model-gate.js'
import type { ResolvedModel } from '../../../lib/catalog-store/entries.js'

t.test('the model gate is the model provisioner, with the pool engine as the metric label (ORCH-3421 gate 1)', async (t) => {
  const seen: unknown[] = []
  const model: ResolvedModel = { id: 'hf:org/repo/x.gguf', local_path: '/cache/x', digest: 'sha256:1', lifecycle: 'Active' }
  const gate = createModelGate({ ensurePresent: async (ref, d, o) => { seen.push([ref, d, o]); return model } }, 'llamacpp')
  t.same(await gate('hf:org/repo/x.gguf', 'sha256:1'), model)
  t.same(seen, [['hf:org/repo/x.gguf', 'sha256:1', { engine: 'llamacpp' }]])
})

t.test('a Retired model does not pass the gate, and the message says how to serve it again', async (t) => {
  const gate = createModelGate({ ensurePresent: async () => ({ id: 'm0', local_path: '/m0', digest: null, lifecycle: 'Retired' }) }, 'llamacpp')
  await t.rejects(gate('m0'), { message: 'model m0 is Retired in the catalog; set it Active (POST /v1/catalog/models/{id}/state) to serve it' })
})
