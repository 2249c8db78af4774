import t from 'tap'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { catalogRoot } from '../index.js'
import { build } from '../../../test/helpers/build.js'

t.test('the catalog root defaults to ~/.cache/models and resolves relative paths (D10)', async (t) => {
  t.equal(catalogRoot({}), join(homedir(), '.cache', 'models'))
  t.equal(catalogRoot({ root: 'rel/dir' }), resolve('rel/dir'))
})

t.test('app.catalog exposes the root and trust policy from the manifest', async (t) => {
  const { app } = await build(t, { catalog: { root: '/srv/models', trust_policy: { mode: 'strict', require_signature: true } } })
  t.equal(app.catalog.root, '/srv/models')
  t.same(app.catalog.trustPolicy, { mode: 'strict', require_signature: true })
  const { app: plain } = await build(t)
  t.equal(plain.catalog.trustPolicy, null)
})

t.test('recordEngine writes an EngineEntry once per build and keeps it on re-prepare (spec §2.8, ORCH-3440/3441)', async (t) => {
  const { app } = await build(t, { catalog: { root: t.testdir() } })
  const writes: string[] = []
  const putEngine = app.catalog.store.putEngine.bind(app.catalog.store)
  app.catalog.store.putEngine = async (e) => { writes.push(e.id); return putEngine(e) }
  const b = { engine: 'llamacpp', version: 'v1', build_ref: null, digest: 'sha256:aa', build_flags: null, artifacts: ['/opt/engine'] }
  const id = await app.catalog.recordEngine(b)
  t.equal(id, 'llamacpp:v1@sha256:aa')
  const first = app.catalog.getEngine(id)!
  t.match(first, { ...b, id, created_ms: Number })
  t.equal(await app.catalog.recordEngine({
    artifacts: ['/opt/engine'],
    digest: 'sha256:aa',
    build_flags: null,
    build_ref: null,
    version: 'v1',
    engine: 'llamacpp',
  }), id)
  t.same(writes, [id], 'an identical build (any key order) is not written again')
  await app.catalog.recordEngine({ ...b, artifacts: ['/opt/engine', '/opt/lib.so'] })
  t.same(writes, [id, id], 'a changed build overwrites its entry')
  t.equal(app.catalog.getEngine(id)!.created_ms, first.created_ms, 'keeping when it was first recorded')
  t.equal(await app.catalog.recordEngine({ ...b, digest: null }), 'llamacpp:v1@nodigest')
  t.same(app.catalog.listEngines({ engine: 'llamacpp' }).map((e) => e.id), ['llamacpp:v1@nodigest', 'llamacpp:v1@sha256:aa'])
})
