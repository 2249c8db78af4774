import t from 'tap'
import { readFileSync } from 'node:fs'
import { fromRoot } from '../../lib/package-root.js'
import { manifestJsonSchema } from '../manifest-schema-doc.js'
import { configReference } from '../config-reference.js'
import { blockIn, referenceIn, spliceReference, REFERENCE_END, REFERENCE_START } from '../readme-block.js'
import { samplingTable } from '../sampling-table.js'
import { honourTable } from '../../plugins/openai/index.js'

t.test('schemas/manifest.schema.json is the generated schema (OC-CONFIG-6010; regenerate with npm run gen)', async (t) => {
  const text = `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`
  t.equal(readFileSync(fromRoot('schemas', 'manifest.schema.json'), 'utf8'), text)
  t.equal(`${JSON.stringify(manifestJsonSchema(), null, 2)}\n`, text, 'emission is deterministic')
})

t.test('the editor schema does not require keys that have defaults, and stays closed', async (t) => {
  const s = manifestJsonSchema() as { required?: string[], properties: Record<string, any>, additionalProperties: boolean }
  t.same(s.required, ['pools'])
  t.equal(s.additionalProperties, false)
  const pool = s.properties.pools.items
  t.same(pool.required, ['id', 'engine', 'model', 'devices'])
  t.notOk(pool.properties.queue.required, 'capacity and full_policy have defaults')
})

t.test('the README configuration reference is generated from the schema', async (t) => {
  const readme = readFileSync(fromRoot('README.md'), 'utf8')
  t.equal(referenceIn(readme), configReference())
  t.match(configReference(), /\| `pools\[\]\.provisioning\.compute_policy` \| `gpu-required` \\\| `cpu-fallback` \\\| `cpu-only` \| `"cpu-fallback"` \|/)
  t.match(configReference(), /\| `adapters` \| \(string \\\| object\)\[\] \|/)
  t.throws(() => spliceReference('no markers', 'x'), /needs the markers/)
  t.equal(referenceIn('no markers'), undefined)
  t.equal(spliceReference(`a\n${REFERENCE_START}\nold\n${REFERENCE_END}\nb`, 'new'), `a\n${REFERENCE_START}\nnew\n${REFERENCE_END}\nb`)
})

t.test('issue 11: the README table of OpenAI parameters is generated from the honour-or-reject rules', async (t) => {
  const readme = readFileSync(fromRoot('README.md'), 'utf8')
  t.equal(blockIn(readme, 'openai-params'), honourTable())
  t.match(honourTable(), /\| `n` \| 1 \(one choice per request\) \|/)
})

t.test('issue 11: the README table of sampling parameters per engine is generated from the adapters\' tables', async (t) => {
  const readme = readFileSync(fromRoot('README.md'), 'utf8')
  t.equal(blockIn(readme, 'sampling-engines'), samplingTable())
  t.match(samplingTable(), /\| `top_k` \| ✓ \| ✓ \| ✓ \| ✓ \| — \| — \| — \|/, 'llama.cpp, vLLM, TGI and Triton take top_k; OpenAI does not')
  t.match(samplingTable(), /\| `response_format` \| ✓ \| ✓ \| ✓ \| — \| ✓ \| — \| — \|/)
})
