import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CatalogStore } from '../store.js'
import { isCatalogError } from '../errors.js'
import type { ModelEntry } from '../entries.js'

const entry = (id: string, extra: Partial<ModelEntry> = {}): ModelEntry => ({
  id, local_path: null, lifecycle: 'Active', digest: null, last_verified_ms: null, created_ms: 1, updated_ms: 1, ...extra,
})

t.test('put/get/list/setState round-trip, list sorted by id (scenario 45, ORCH-3310)', async (t) => {
  const root = t.testdir()
  const s = new CatalogStore(root).open()
  t.same(s.list(), [], 'a missing index reads as empty')
  await s.put(entry('b'))
  await s.put(entry('a', { digest: 'sha256:00' }))
  t.same(s.list().map((e) => e.id), ['a', 'b'])
  await s.setState('a', 'Retired')
  t.equal(s.get('a')?.lifecycle, 'Retired')
  t.equal(s.lifecycle('a'), 'Retired')
  t.equal(s.lifecycle('nope'), undefined)
  const doc = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8'))
  t.equal(doc.schema_version, 1)
  t.same(Object.keys(doc.entries), ['a', 'b'])
  t.ok(readFileSync(join(root, 'index.json'), 'utf8').endsWith('}\n'), 'deterministic serialisation ends with a newline')
  const fresh = new CatalogStore(root).open()
  t.equal(fresh.get('a')?.lifecycle, 'Retired', 'another reader sees the same state')
})

t.test('setState and update on an unknown id fail with NotFound (scenario 46)', async (t) => {
  const s = new CatalogStore(t.testdir()).open()
  await t.rejects(s.setState('ghost', 'Retired'), { code: 'ORC_ERR_CATALOG_NOT_FOUND', statusCode: 404 })
  await t.rejects(s.update('ghost', (e) => e), { code: 'ORC_ERR_CATALOG_NOT_FOUND' })
  await t.rejects(s.setState('ghost', 'Deprecated' as never), { code: 'ORC_ERR_CATALOG_INVALID_ENTRY' })
  await t.rejects(s.put(entry('x', { lifecycle: 'Draft' as never })), { code: 'ORC_ERR_CATALOG_INVALID_ENTRY' })
  await t.rejects(s.put(entry(' ')), { code: 'ORC_ERR_CATALOG_INVALID_ENTRY' })
})

for (const [label, text] of [
  ['schema_version 99', '{"schema_version":99,"entries":{}}'],
  ['no schema_version (legacy bare map)', '{"m":{"id":"m"}}'],
] as const) {
  for (const file of ['index.json', 'engines.json']) {
    t.test(`${file} with ${label} is refused and left untouched (scenario 47, D14)`, async (t) => {
      const root = t.testdir({ [file]: text })
      t.throws(() => new CatalogStore(root).open(), {
        code: 'ORC_ERR_CATALOG_SCHEMA_VERSION',
        kind: 'SchemaVersionMismatch',
        details: { file: join(root, file), supported: 1 },
      })
      const s = new CatalogStore(root)
      const engineEntry = { id: 'e:1@nodigest', engine: 'e', version: '1', build_ref: null, digest: null, build_flags: null, artifacts: [], created_ms: 1 }
      if (file === 'index.json') await t.rejects(s.put(entry('m')), { name: 'CatalogError', kind: 'SchemaVersionMismatch' })
      else await t.rejects(s.putEngine(engineEntry), { name: 'CatalogError', kind: 'SchemaVersionMismatch' })
      t.equal(readFileSync(join(root, file), 'utf8'), text, 'not overwritten')
    })
  }
}

t.test('garbage JSON and a non-object entries are refused without overwriting', async (t) => {
  const root = t.testdir({ 'index.json': '{"schema_vers' })
  await t.rejects(new CatalogStore(root).put(entry('m')), { name: 'CatalogError', kind: 'Serde' })
  t.equal(readFileSync(join(root, 'index.json'), 'utf8'), '{"schema_vers')
  const root2 = t.testdir({ 'index.json': '{"schema_version":1,"entries":[]}' })
  t.throws(() => new CatalogStore(root2).open(), { name: 'CatalogError', kind: 'Serde' })
})

t.test('a crash between temp write and rename leaves the previous index (scenario 48, ORCH-3312)', async (t) => {
  const root = t.testdir()
  await new CatalogStore(root).put(entry('old'))
  const before = readFileSync(join(root, 'index.json'), 'utf8')
  const crashing = new CatalogStore(root, { beforeRename: () => { throw new Error('injected crash') } })
  await t.rejects(crashing.put(entry('new')), /injected crash/)
  t.equal(readFileSync(join(root, 'index.json'), 'utf8'), before)
  t.same(new CatalogStore(root).list().map((e) => e.id), ['old'])
  t.same((await readdir(root)).filter((f) => f.includes('.tmp-')), [], 'the temp file is cleaned up')
  t.notOk(existsSync(join(root, '.catalog.lock')), 'the lock is released')
})

t.test('delete removes owned artifacts below the root, reports failures, keeps external files (scenarios 49, 50, D10)', async (t) => {
  const dir = t.testdir({ root: { gguf: { org: { repo: { 'm.gguf': 'weights' } } }, user: { 'mine.gguf': 'x' } }, outside: { 'ext.gguf': 'external' } })
  const root = join(dir, 'root')
  const outside = join(dir, 'outside')
  const s = new CatalogStore(root).open()
  await s.put(entry('hf:org/repo/m.gguf', { local_path: join(root, 'gguf/org/repo/m.gguf'), owned: true }))
  await s.put(entry(`file:${join(outside, 'ext.gguf')}`, { local_path: join(outside, 'ext.gguf') }))
  await s.put(entry(`file:${join(root, 'user/mine.gguf')}`, { local_path: join(root, 'user/mine.gguf') }))
  t.same(await s.delete('hf:org/repo/m.gguf'), { deleted: true, artifact: 'removed' })
  t.notOk(existsSync(join(root, 'gguf')), 'emptied parent folders are pruned up to the root')
  t.ok(existsSync(root))
  t.same(await s.delete(`file:${join(outside, 'ext.gguf')}`), { deleted: true, artifact: 'external' })
  t.ok(existsSync(join(outside, 'ext.gguf')), "the user's file outside the root still exists")
  t.same(await s.delete(`file:${join(root, 'user/mine.gguf')}`), { deleted: true, artifact: 'external' })
  t.ok(existsSync(join(root, 'user/mine.gguf')), 'a file: model below the root is not the catalog\'s either')
  t.same(await s.delete('hf:org/repo/m.gguf'), { deleted: false })
  await s.put(entry('meta'))
  t.same(await s.delete('meta'), { deleted: true, artifact: 'none' })

  mkdirSync(join(root, 'held/dir'), { recursive: true })
  writeFileSync(join(root, 'held/dir/w.bin'), 'w')
  const { CatalogStore: Mocked } = await t.mockImport<typeof import('../store.js')>('../store.js', {
    'node:fs/promises': { ...await import('node:fs/promises'), rm: async () => { throw new Error('EBUSY: resource busy') } },
  })
  const m = new Mocked(root).open()
  await m.put(entry('hf:o/r', { local_path: join(root, 'held/dir'), owned: true }))
  const res = await m.delete('hf:o/r')
  t.same(res, { deleted: true, artifact: 'none', artifact_error: `could not remove ${join(root, 'held/dir')}: EBUSY: resource busy` })
  t.equal(m.get('hf:o/r'), undefined, 'the index no longer has the id either way')
})

t.test('local paths escaping the root are rejected with PathTraversal (scenario 51, ORCH-3318)', async (t) => {
  const root = t.testdir()
  const s = new CatalogStore(root).open()
  await t.rejects(s.put(entry('hf:a/b/c', { local_path: '../../etc/passwd' })), { name: 'CatalogError', kind: 'PathTraversal', statusCode: 400 })
  await t.rejects(s.put(entry('hf:a/b/c', { local_path: `${root}/x/../../y` })), { name: 'CatalogError', kind: 'PathTraversal' })
  await t.rejects(s.put(entry('https://h/x', { local_path: '/etc/passwd' })), { name: 'CatalogError', kind: 'PathTraversal' })
  await t.rejects(
    s.put(entry('file:/etc/x', { local_path: '/etc/x', owned: true })),
    { name: 'CatalogError', kind: 'PathTraversal' },
    'an owned artifact must be below the root'
  )
  await t.rejects(s.put(entry('hf:a/b', { local_path: root })), { name: 'CatalogError', kind: 'PathTraversal' }, 'never the root itself')
  const ok = await s.put(entry('hf:a/b/c', { local_path: 'gguf/a/b/c' }))
  t.equal(ok.local_path, join(root, 'gguf/a/b/c'), 'root-relative paths are stored absolute')
  t.same(s.list().map((e) => e.id), ['hf:a/b/c'])
})

t.test('exists/locate/lifecycle accept ids and refs; locate needs Active and the file', async (t) => {
  const root = t.testdir({ 'tiny.gguf': 'x' })
  const s = new CatalogStore(root).open()
  await s.put(entry(`file:${join(root, 'tiny.gguf')}`, { local_path: join(root, 'tiny.gguf') }))
  await s.put(entry('hf:o/r/gone.gguf', { local_path: join(root, 'gguf/o/r/gone.gguf') }))
  t.ok(s.exists('tiny.gguf'), 'a relative ref resolves against the root (D8)')
  t.ok(s.exists(`file:${join(root, 'tiny.gguf')}`))
  t.notOk(s.exists('::not a ref'))
  t.notOk(s.exists('s3://'))
  t.same(s.locate('tiny.gguf'), { id: `file:${join(root, 'tiny.gguf')}`, local_path: join(root, 'tiny.gguf'), digest: null, lifecycle: 'Active' })
  t.equal(s.locate('hf:o/r/gone.gguf'), null, 'missing file')
  t.equal(s.locate('hf:o/r/none.gguf'), null, 'unknown')
  await s.setState(`file:${join(root, 'tiny.gguf')}`, 'Retired')
  t.equal(s.locate('tiny.gguf'), null, 'Retired is not located')
  t.equal(s.lifecycle('tiny.gguf'), 'Retired')
})

t.test('engines.json is separate and filtered by engine and version (ORCH-3440)', async (t) => {
  const root = t.testdir()
  const s = new CatalogStore(root).open()
  const e = (engine: string, version: string) => ({
    id: `${engine}:${version}@nodigest`,
    engine,
    version,
    build_ref: null,
    digest: null,
    build_flags: null,
    artifacts: [],
    created_ms: 1,
  })
  await s.putEngine(e('llamacpp', 'b1'))
  await s.putEngine(e('llamacpp', 'b2'))
  await s.putEngine(e('vllm', 'b1'))
  await s.putEngine(e('vllm', 'b1'))
  t.same(s.listEngines().map((x) => x.id), ['llamacpp:b1@nodigest', 'llamacpp:b2@nodigest', 'vllm:b1@nodigest'])
  t.same(s.listEngines({ engine: 'llamacpp', version: 'b2' }).map((x) => x.id), ['llamacpp:b2@nodigest'])
  t.same(s.listEngines({ version: 'b1' }).length, 2)
  t.equal(s.getEngine('vllm:b1@nodigest')?.engine, 'vllm')
  t.notOk(existsSync(join(root, 'index.json')), 'the model index is not touched by engine writes')
  await t.rejects(s.putEngine({ ...e('x', '1'), version: 1 as never }), { name: 'CatalogError', kind: 'InvalidEntry' })
})

t.test('subscribers see this process\'s writes and, via poll, another writer\'s', async (t) => {
  const root = t.testdir()
  const a = new CatalogStore(root).open()
  const b = new CatalogStore(root).open()
  const seen: string[] = []
  a.subscribe((ev) => { seen.push(`${ev.type}:${ev.id}${ev.type === 'state' ? `:${ev.state}` : ''}`) })
  a.subscribe(() => { throw new Error('a broken listener does not stop the others') })
  await a.put(entry('m1'))
  await a.setState('m1', 'Retired', 500)
  await b.put(entry('m2'))
  await b.setState('m1', 'Active')
  await b.delete('m2')
  await b.put(entry('m3'))
  a.poll()
  a.poll()
  t.same(seen, ['put:m1', 'state:m1:Retired', 'state:m1:Active', 'put:m3'])
  await b.delete('m3')
  a.poll()
  t.same(seen.at(-1), 'delete:m3')
  t.ok(isCatalogError(new (await import('../errors.js')).CatalogError('Busy', 'x'), 'Busy'))
})
