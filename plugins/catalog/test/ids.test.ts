import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from '../../../test/helpers/build.js'

const D = (c: string) => `sha256:${c.repeat(64)}`
const enc = encodeURIComponent

async function app (t: Parameters<typeof build>[0]) {
  const root = t.testdir()
  const built = await build(t, { catalog: { root } })
  return { ...built, root }
}

const indexText = (root: string): string | null => existsSync(join(root, 'index.json')) ? readFileSync(join(root, 'index.json'), 'utf8') : null

t.test('issue 10 #3: constructor, __proto__, toString, hasOwnProperty: no phantom entry, no false 409, no half entry', async (t) => {
  const { app: a, root } = await app(t)
  t.equal((await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'real', digest: D('a') } })).statusCode, 201)
  const before = indexText(root)
  for (const id of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const get = await a.inject({ url: `/v1/catalog/models/${enc(id)}` })
    t.equal(get.statusCode, 400, `GET ${id} is refused, not a phantom entry`)
    t.match(get.json(), { code: 'INVALID_PARAMS', message: new RegExp(`id \\(path\\) must not be the reserved name "${id}"`) })
    const post = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id, digest: D('b') } })
    t.equal(post.statusCode, 400, `POST ${id} is a 400 naming id, not a 409`)
    t.match(post.json(), { code: 'INVALID_PARAMS', message: /id must not be the reserved name/ })
    const state = await a.inject({ method: 'POST', url: `/v1/catalog/models/${enc(id)}/state`, payload: { state: 'Active' } })
    t.equal(state.statusCode, 400, `POST ${id}/state`)
    t.equal((await a.inject({ method: 'DELETE', url: `/v1/catalog/models/${enc(id)}` })).statusCode, 400, `DELETE ${id}`)
    t.equal((await a.inject({ method: 'POST', url: `/v1/catalog/models/${enc(id)}/verify` })).statusCode, 400, `verify ${id}`)
  }
  t.equal(indexText(root), before, 'index.json is unchanged: no half entry')
  const list = await a.inject({ url: '/v1/catalog/models' })
  t.same(list.json().items.map((e: { id: string }) => e.id), ['real'])
})

t.test('issue 10 #11: ids with "..", NUL and other control characters, a backslash, or over 512 characters are refused, naming id', async (t) => {
  const { app: a, root } = await app(t)
  const bad = ['file:../../etc/passwd', 'hf:org/../x', 'a\u0000b', 'a\nb', 'a\u001bb', 'a\\b', ' x', 'x'.repeat(513)]
  for (const id of bad) {
    const res = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id, digest: D('a') } })
    t.equal(res.statusCode, 400, JSON.stringify(id).slice(0, 40))
    t.match(res.json(), { code: 'INVALID_PARAMS', message: /^llama-orch catalog: id must .*; expected a model ref or name of printable characters/ })
    const get = await a.inject({ url: `/v1/catalog/models/${enc(id)}` })
    t.equal(get.statusCode, 400, `GET ${JSON.stringify(id).slice(0, 40)}`)
  }
  t.equal(indexText(root), null, 'nothing was written')
  const ok = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'x'.repeat(512), digest: D('a') } })
  t.equal(ok.statusCode, 201, 'an id of exactly 512 characters is fine')
  const long = 'é'.repeat(512)
  t.equal((await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: long, digest: D('a') } })).statusCode, 201)
  t.equal((await a.inject({ url: `/v1/catalog/models/${enc(long)}` })).statusCode, 200, 'and reachable by its URL-encoded path (no 414)')
})

t.test('issue 10 #11: digests must be sha256:<64 hex> or sha512:<128 hex>, in the body, manifests and sbom', async (t) => {
  const { app: a, root } = await app(t)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ digest: 'sha256:1' }, 'digest'],
    [{ digest: `sha256:${'a'.repeat(63)}` }, 'digest'],
    [{ digest: `sha256:${'z'.repeat(64)}` }, 'digest'],
    [{ digest: `sha512:${'a'.repeat(64)}` }, 'digest'],
    [{ digest: `md5:${'a'.repeat(32)}` }, 'digest'],
    [{ digest: D('a'), manifests: [{ digest: D('b'), size_bytes: 1 }, { digest: 'sha256:2', size_bytes: 1 }] }, 'manifests\\[1\\]\\.digest'],
    [{ digest: D('a'), sbom: { uri: 'u', digest: 'sha256:' } }, 'sbom\\.digest'],
  ]
  for (const [body, field] of cases) {
    const res = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'm', ...body } })
    t.equal(res.statusCode, 400, JSON.stringify(body).slice(0, 60))
    t.match(res.json(), { code: 'INVALID_PARAMS', message: new RegExp(`${field} must be sha256:<64 hex digits>`) })
  }
  t.equal(indexText(root), null, 'nothing was written')
  const long = await a.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'm512', digest: `SHA512:${'AB'.repeat(64)}` } })
  t.equal(long.statusCode, 201)
  t.equal(long.json().digest, `sha512:${'ab'.repeat(64)}`, 'stored lowercase')
})
