import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CatalogStore } from '../store.js'
import type { ModelEntry } from '../entries.js'

const entry = (id: string, extra: Partial<ModelEntry> = {}): ModelEntry => ({
  id, local_path: null, lifecycle: 'Active', digest: null, last_verified_ms: null, created_ms: 1, updated_ms: 1, ...extra,
})
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']

t.test('issue 10 #3: prototype names are no entries: get, list, lifecycle, setState and delete see nothing', async (t) => {
  const root = t.testdir()
  const s = new CatalogStore(root).open()
  await s.put(entry('real'))
  const before = readFileSync(join(root, 'index.json'), 'utf8')
  for (const id of PROTO_NAMES) {
    t.equal(s.get(id), undefined, `get(${id})`)
    t.equal(s.lifecycle(id), undefined, `lifecycle(${id})`)
    t.equal(s.exists(id), false, `exists(${id})`)
    t.equal(s.locate(id), null, `locate(${id})`)
    await t.rejects(s.setState(id, 'Active'), { code: 'ORC_ERR_CATALOG_NOT_FOUND' }, `setState(${id}) is NotFound`)
    await t.rejects(s.update(id, (e) => e), { code: 'ORC_ERR_CATALOG_NOT_FOUND' }, `update(${id}) is NotFound`)
    t.same(await s.delete(id), { deleted: false }, `delete(${id})`)
    t.equal(s.getEngine(id), undefined, `getEngine(${id})`)
  }
  t.same(s.list().map((e) => e.id), ['real'])
  t.equal(readFileSync(join(root, 'index.json'), 'utf8'), before, 'index.json holds no half entry')
})

t.test('issue 10 #3: prototype names as ids are refused on put, naming the field', async (t) => {
  const root = t.testdir()
  const s = new CatalogStore(root).open()
  for (const id of PROTO_NAMES) {
    await t.rejects(s.put(entry(id)), { code: 'ORC_ERR_CATALOG_INVALID_ENTRY', statusCode: 400, message: /^llama-orch catalog: id must not be the reserved name/ }, id)
  }
  t.same(s.list(), [])
})

t.test('issue 10 #3: an index that already holds such keys (written before the refusal) is read as plain keys', async (t) => {
  const root = t.testdir()
  const e = (id: string) => ({ id, local_path: null, lifecycle: 'Active', digest: null, last_verified_ms: null, created_ms: 1, updated_ms: 1 })
  // hand-written, as an older build could have: JSON.parse keeps "__proto__" as an own key
  const text = `{"schema_version":1,"entries":{"__proto__":${JSON.stringify(e('__proto__'))},"constructor":${JSON.stringify(e('constructor'))}}}`
  writeFileSync(join(root, 'index.json'), text)
  const s = new CatalogStore(root).open()
  t.same(s.list().map((x) => x.id), ['__proto__', 'constructor'])
  t.equal(s.get('__proto__')?.id, '__proto__')
  await s.setState('__proto__', 'Retired')
  await s.put(entry('other'))
  const doc = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { entries: Record<string, ModelEntry> }
  t.same(Object.keys(doc.entries).sort(), ['__proto__', 'constructor', 'other'], 'both stay keys through a rewrite')
  t.equal(Object.getOwnPropertyDescriptor(doc.entries, '__proto__')?.value.lifecycle, 'Retired')
  t.same((await s.delete('constructor')).deleted, true)
  t.same(new CatalogStore(root).list().map((x) => x.id), ['__proto__', 'other'])
})
