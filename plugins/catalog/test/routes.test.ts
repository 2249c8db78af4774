import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from '../../../test/helpers/build.js'

const D = (c: string) => `sha256:${c.repeat(64)}`
const enc = encodeURIComponent

async function app (t: Parameters<typeof build>[0], catalog: Record<string, unknown> = {}) {
  const root = t.testdir()
  const built = await build(t, { catalog: { root, ...catalog } })
  return { ...built, root }
}

t.test('POST then GET a model returns the same fields (scenario 46, D14)', async (t) => {
  const { app: a } = await app(t)
  const body = {
    id: 'model0',
    digest: D('a'),
    tags: ['x'],
    signatures: [{ signer: 's', algo: 'ed25519', verified: true, timestamp_ms: 1 }],
    sbom: { uri: 'u', digest: D('b') },
  }
  const res = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: body })
  t.equal(res.statusCode, 201)
  t.match(res.json(), { ...body, state: 'Active', local_path: null })
  t.ok(res.headers['x-correlation-id'])
  const got = await a.inject({ method: 'GET', url: '/v1/catalog/models/model0' })
  t.equal(got.statusCode, 200)
  t.match(got.json(), { ...body, state: 'Active' })
  t.type(got.json().created_ms, 'number')
  const again = await a.inject({
    method: 'POST',
    url: '/v1/catalog/models',
    payload: { id: 'model0', digest: D('a').toUpperCase().replace('SHA256', 'sha256') },
  })
  t.equal(again.statusCode, 200, 'same id and digest → the existing entry')
  const conflict = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'model0', digest: D('c') } })
  t.equal(conflict.statusCode, 409)
  t.match(conflict.json(), { code: 'INVALID_PARAMS', message: /already in the catalog with digest/ })
  for (const bad of [{ id: 'm' }, { digest: D('a') }, { id: 'm', digest: 'abc' }]) {
    const r = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: bad })
    t.equal(r.statusCode, 400)
    t.equal(r.json().code, 'INVALID_PARAMS')
  }
})

t.test('a strict trust policy refuses unsigned models with UNTRUSTED_ARTIFACT (scenario 48, D17)', async (t) => {
  const { app: a } = await app(t, { trust_policy: { mode: 'strict', require_signature: true } })
  const res = await a.inject({
    method: 'POST',
    url: '/v1/catalog/models',
    payload: { id: 'm', digest: D('a'), signatures: [{ signer: 's', algo: 'x', verified: false, timestamp_ms: 1 }] },
  })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'UNTRUSTED_ARTIFACT', message: /no signature with verified:true/ })
  t.equal(a.catalog.get('m'), undefined, 'nothing written')
  const tightened = await build(t, { catalog: { root: t.testdir() } })
  const r2 = await tightened.app.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'm', digest: D('a'), source_url: 'https://evil.example/m', trust_policy: { mode: 'strict', allowed_registries: ['huggingface.co'], require_sbom: true } } })
  t.equal(r2.statusCode, 400, 'an entry may tighten the policy')
  t.match(r2.json().message, /no sbom.*evil\.example/)
})

t.test('verify hashes the artifact, stamps last_verified_ms and counts (scenario 47, D17)', async (t) => {
  const { app: a, root } = await app(t)
  writeFileSync(join(root, 'w.bin'), 'weights')
  const digest = 'sha256:b0a5b4b7b2c7ca5ac1b1ef6ae9a2e4c4b7a58e6b9b0d2b6c5a5f3e6a5f0a2c31'
  await a.catalog.put({ id: 'm', local_path: join(root, 'w.bin'), lifecycle: 'Active', digest, last_verified_ms: null, created_ms: 1, updated_ms: 1 })
  const res = await a.inject({ method: 'POST', url: '/v1/catalog/models/m/verify' })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { status: 'started' })
  for (let i = 0; i < 100 && a.catalog.get('m')?.last_verified_ms === null; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.type(a.catalog.get('m')?.last_verified_ms, 'number')
  t.same(a.catalog.get('m')?.verification, { result: 'fail', reason: 'digest_mismatch' }, 'a wrong recorded digest fails')
  t.equal(a.catalog.get('m')?.trust_state, 'unverified')
  const metrics = await a.inject({ url: '/metrics' })
  t.match(metrics.body, 'catalog_verifications_total{result="fail",reason="digest_mismatch",engine="none"} 1')
  t.equal((await a.inject({ method: 'POST', url: '/v1/catalog/models/nope/verify' })).statusCode, 404)
  const meta = await a.catalog.verify('m')
  t.equal(meta.verification?.result, 'fail')
})

t.test('state: Retired → 202, model_state gauge, lifecycle(); Deprecated → 400; unknown → 404 (scenarios 49, 50, D7)', async (t) => {
  const { app: a } = await app(t)
  await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'model0', digest: D('a') } })
  const events: unknown[] = []
  a.catalog.subscribe((e) => events.push(e))
  const res = await a.inject({ method: 'POST', url: '/v1/catalog/models/model0/state', payload: { state: 'Retired', deadline_ms: 60000 } })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { status: 'accepted' })
  t.equal(a.catalog.lifecycle('model0'), 'Retired')
  t.same(events, [{ type: 'state', id: 'model0', state: 'Retired', previous: 'Active', deadline_ms: 60000 }])
  const m = (await a.inject({ url: '/metrics' })).body
  t.match(m, '# TYPE model_state gauge')
  t.match(m, 'model_state{model_id="model0",state="Retired"} 1')
  t.match(m, 'model_state{model_id="model0",state="Active"} 0')
  const dep = await a.inject({ method: 'POST', url: '/v1/catalog/models/model0/state', payload: { state: 'Deprecated' } })
  t.equal(dep.statusCode, 400)
  t.match(dep.json(), { code: 'INVALID_PARAMS', message: /Active.*Retired/ })
  t.equal((await a.inject({ method: 'POST', url: '/v1/catalog/models/ghost/state', payload: { state: 'Active' } })).statusCode, 404)
})

t.test('DELETE → 204, again → 404; the gauge series goes away (scenario 52)', async (t) => {
  const { app: a } = await app(t)
  await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'hf:org/repo/f.gguf', digest: D('a') } })
  const url = `/v1/catalog/models/${enc('hf:org/repo/f.gguf')}`
  t.equal((await a.inject({ url })).statusCode, 200, 'ids with : and / travel URL-encoded')
  t.equal((await a.inject({ method: 'DELETE', url })).statusCode, 204)
  t.equal((await a.inject({ method: 'DELETE', url })).statusCode, 404)
  t.equal((await a.inject({ url })).statusCode, 404)
  t.notMatch((await a.inject({ url: '/metrics' })).body, 'model_id="hf:org/repo/f.gguf"')
})

t.test('list pages visit every entry once, even with inserts and deletes mid-scan (scenario 53, ORCH-3470)', async (t) => {
  const { app: a } = await app(t)
  for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id, digest: D('a') } })
  const sizes: number[] = []
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const res = await a.inject({ url: `/v1/catalog/models?limit=2${cursor ? `&cursor=${cursor}` : ''}` })
    const body = res.json() as { items: Array<{ id: string }>, next_cursor: string | null }
    sizes.push(body.items.length)
    seen.push(...body.items.map((i) => i.id))
    cursor = body.next_cursor
    if (sizes.length === 1) {
      await a.catalog.delete('m1')
      await a.catalog.put({ id: 'm0', local_path: null, lifecycle: 'Active', digest: null, last_verified_ms: null, created_ms: 1, updated_ms: 1 })
    }
  } while (cursor !== null)
  t.same(sizes, [2, 2, 1])
  t.same(seen, ['m1', 'm2', 'm3', 'm4', 'm5'])
  const bad = await a.inject({ url: '/v1/catalog/models?cursor=nonsense' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /cursor/)
  t.equal((await a.inject({ url: '/v1/catalog/models?limit=0' })).statusCode, 400)
  t.equal((await a.inject({ url: '/v1/catalog/models?limit=201' })).statusCode, 400)
  t.same((await a.inject({ url: '/v1/catalog/models' })).json().items.length, 5, 'default limit 50')
})

t.test('ETag: If-None-Match → 304 with ETag and correlation id; a change → 200 and a new ETag (scenario 54)', async (t) => {
  const { app: a } = await app(t)
  await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'model0', digest: D('a') } })
  for (const url of ['/v1/catalog/models/model0', '/v1/catalog/models?limit=10', '/v1/catalog/engines']) {
    const first = await a.inject({ url })
    const etag = first.headers.etag as string
    t.match(etag, /^"[0-9a-f]{64}"$/, `${url} has a strong ETag`)
    const cached = await a.inject({ url, headers: { 'if-none-match': etag, 'x-correlation-id': 'abc-123' } })
    t.equal(cached.statusCode, 304, url)
    t.equal(cached.body, '')
    t.equal(cached.headers.etag, etag)
    t.equal(cached.headers['x-correlation-id'], 'abc-123')
    t.equal((await a.inject({ url, headers: { 'if-none-match': `W/"x", ${etag}` } })).statusCode, 304, 'lists of tags and weak prefixes')
  }
  const first = await a.inject({ url: '/v1/catalog/models/model0' })
  const lm = first.headers['last-modified'] as string
  t.equal((await a.inject({ url: '/v1/catalog/models/model0', headers: { 'if-modified-since': lm } })).statusCode, 304)
  t.equal((await a.inject({ url: '/v1/catalog/models/model0', headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } })).statusCode, 200)
  t.equal(
    (await a.inject({ url: '/v1/catalog/models/model0', headers: { 'if-none-match': '"other"', 'if-modified-since': lm } })).statusCode,
    200,
    'If-None-Match wins'
  )
  await new Promise((resolve) => setTimeout(resolve, 5))
  await a.catalog.setState('model0', 'Retired')
  const after = await a.inject({ url: '/v1/catalog/models/model0', headers: { 'if-none-match': first.headers.etag as string } })
  t.equal(after.statusCode, 200)
  t.not(after.headers.etag, first.headers.etag)
})

t.test('GET /v1/catalog/engines lists engine builds with filters', async (t) => {
  const { app: a } = await app(t)
  t.same((await a.inject({ url: '/v1/catalog/engines' })).json(), { items: [] })
  await a.catalog.putEngine({
    id: 'llamacpp:b1@nodigest',
    engine: 'llamacpp',
    version: 'b1',
    build_ref: 'abc',
    digest: null,
    build_flags: ['-DGGML_CUDA=OFF'],
    artifacts: ['/x/llama-server'],
    created_ms: 5,
  })
  await a.catalog.putEngine({
    id: 'vllm:0.6@nodigest',
    engine: 'vllm',
    version: '0.6',
    build_ref: null,
    digest: null,
    build_flags: null,
    artifacts: [],
    created_ms: 6,
  })
  t.same((await a.inject({ url: '/v1/catalog/engines' })).json().items.map((e: { id: string }) => e.id), ['llamacpp:b1@nodigest', 'vllm:0.6@nodigest'])
  t.same((await a.inject({ url: '/v1/catalog/engines?engine=vllm' })).json().items.map((e: { id: string }) => e.id), ['vllm:0.6@nodigest'])
  t.equal(a.catalog.getEngine('vllm:0.6@nodigest')?.version, '0.6')
})

t.test('an index with an unknown schema_version stops the boot and stays untouched (scenario 47)', async (t) => {
  const root = t.testdir({ 'index.json': '{"schema_version":2,"entries":{}}' })
  await t.rejects(build(t, { catalog: { root } }), { code: 'ORC_ERR_CATALOG_SCHEMA_VERSION' })
})

t.test('another process\'s write shows up in the server within a poll', async (t) => {
  const { app: a, root } = await app(t)
  const { CatalogStore } = await import('../../../lib/catalog-store/store.js')
  await new CatalogStore(root).put({
    id: 'cli-added',
    local_path: null,
    lifecycle: 'Retired',
    digest: null,
    last_verified_ms: null,
    created_ms: 1,
    updated_ms: 1,
  })
  t.equal(a.catalog.lifecycle('cli-added'), 'Retired', 'lifecycle() re-reads a changed index itself')
  a.catalog.store.poll()
  t.match((await a.inject({ url: '/metrics' })).body, 'model_state{model_id="cli-added",state="Retired"} 1')
})
