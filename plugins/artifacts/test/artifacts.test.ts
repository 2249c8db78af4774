import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from '../../../test/helpers/build.js'
import { artifactId, fsArtifactStore, memoryArtifactStore } from '../store.js'
import { artifactsRoot } from '../index.js'

t.test('POST → 201, id = digest = sha256 of canonical JSON; GET returns the content; re-POST same id (scenario 55)', async (t) => {
  const root = t.testdir()
  const { app } = await build(t, { catalog: { root: join(root, 'models'), artifacts_root: join(root, 'art') } })
  const body = { kind: 'plan', content: { b: 1, a: [1, 2] }, tags: ['x'] }
  const res = await app.inject({ method: 'POST', url: '/v1/artifacts', payload: body })
  t.equal(res.statusCode, 201)
  const ref = res.json()
  t.match(ref.id, /^sha256:[0-9a-f]{64}$/)
  t.equal(ref.id, ref.digest)
  t.same(ref.tags, ['x'])
  t.equal(ref.kind, 'plan')
  t.ok(res.headers['x-correlation-id'])
  const got = await app.inject({ url: `/v1/artifacts/${encodeURIComponent(ref.id)}` })
  t.equal(got.statusCode, 200)
  t.same(got.json(), { ...ref, content: body.content, parent: null, metadata: null })
  t.equal((await app.inject({ url: `/v1/artifacts/${ref.id}` })).statusCode, 200, 'an unencoded colon works too')
  const again = await app.inject({ method: 'POST', url: '/v1/artifacts', payload: { tags: ['x'], content: { a: [1, 2], b: 1 }, kind: 'plan' } })
  t.equal(again.statusCode, 201)
  t.same(again.json(), ref, 'same id and the first created_ms, whatever the key order')
  t.same(readdirSync(join(root, 'art')), [ref.id.slice(7)], 'stored on disk as <root>/<hex>')
  t.same(JSON.parse(readFileSync(join(root, 'art', ref.id.slice(7)), 'utf8')).content, body.content)
})

t.test('GET unknown or malformed ids → 404; bad bodies → 400, over the limit 413 (scenario 56)', async (t) => {
  const { app } = await build(t, { catalog: { root: t.testdir(), artifacts_store: 'memory', artifacts_body_limit_bytes: 2048 } })
  t.equal(app.artifacts.kind, 'memory')
  t.equal(app.artifacts.root, null)
  for (const id of [`sha256:${'0'.repeat(64)}`, 'nope']) {
    const r = await app.inject({ url: `/v1/artifacts/${id}` })
    t.equal(r.statusCode, 404)
    t.equal(r.json().code, 'INVALID_PARAMS')
  }
  for (const payload of [{ kind: 'doc', content: {} }, { kind: 'plan' }, { kind: 'plan', content: 'text' }]) {
    const r = await app.inject({ method: 'POST', url: '/v1/artifacts', payload })
    t.equal(r.statusCode, 400, JSON.stringify(payload))
  }
  const big = await app.inject({ method: 'POST', url: '/v1/artifacts', payload: { kind: 'trace', content: { x: 'y'.repeat(4096) } } })
  t.equal(big.statusCode, 413, 'over the artifacts body limit (issue 10 #9)')
  t.equal(big.json().code, 'INVALID_PARAMS')
  const withAll = await app.inject({
    method: 'POST',
    url: '/v1/artifacts',
    payload: { kind: 'trace', content: { events: [] }, parent: 'sha256:x', metadata: { engine: 'llamacpp' } },
  })
  t.equal(withAll.statusCode, 201)
  const got = await app.inject({ url: `/v1/artifacts/${withAll.json().id}` })
  t.match(got.json(), { parent: 'sha256:x', metadata: { engine: 'llamacpp' }, tags: [] })
})

t.test('the stores: parent and metadata are part of the id; concurrent puts keep one file and the first created_ms', async (t) => {
  const base = { kind: 'trace' as const, content: { events: [{ type: 'end' }] } }
  t.not(artifactId(base), artifactId({ ...base, parent: 'p' }))
  t.not(artifactId(base), artifactId({ ...base, metadata: { a: 1 } }))
  t.equal(artifactId(base), artifactId({ ...base, tags: [] }))
  const dir = t.testdir()
  let clock = 100
  const fs = fsArtifactStore(join(dir, 'a'), () => clock++)
  const refs = await Promise.all(Array.from({ length: 8 }, () => fs.put(base)))
  t.equal(new Set(refs.map((r) => r.created_ms)).size, 1, 'every racer got the winner\'s created_ms')
  t.same(readdirSync(join(dir, 'a')), [refs[0]!.id.slice(7)], 'one file, no temp leftovers')
  t.equal(await fs.get('garbage'), undefined)
  const mem = memoryArtifactStore(() => 7)
  const r = await mem.put(base)
  t.same(await mem.get(r.id), { ...r, content: base.content })
  t.match(artifactsRoot({}), /\.cache\/llama-orch\/artifacts$/)
})
