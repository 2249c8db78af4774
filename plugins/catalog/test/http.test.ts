import t from 'tap'
import { request } from 'undici'
import { build } from '../../../test/helpers/build.js'

t.test('over a real socket: pages visit every entry once and ETag answers 304 (acceptance, ORCH-3470)', async (t) => {
  const { app } = await build(t, { catalog: { root: t.testdir() } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const ids = Array.from({ length: 7 }, (_, i) => `hf:org/m${i}/f.gguf`)
  for (const id of ids.slice().reverse()) {
    const res = await request(`${base}/v1/catalog/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, digest: `sha256:${'a'.repeat(64)}` }),
    })
    t.equal(res.statusCode, 201)
    await res.body.dump()
  }
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const url = `${base}/v1/catalog/models?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res = await request(url)
    const body = await res.body.json() as { items: Array<{ id: string }>, next_cursor: string | null }
    const etag = res.headers.etag as string
    const again = await request(url, { headers: { 'if-none-match': etag } })
    t.equal(again.statusCode, 304)
    t.equal(again.headers.etag, etag)
    t.ok(again.headers['x-correlation-id'])
    t.equal(await again.body.text(), '')
    seen.push(...body.items.map((i) => i.id))
    cursor = body.next_cursor
    pages++
  } while (cursor !== null)
  t.equal(pages, 3)
  t.same(seen, ids, 'every entry exactly once, in id order')
  const one = await request(`${base}/v1/catalog/models/${encodeURIComponent(ids[0]!)}`)
  t.equal(one.statusCode, 200)
  t.equal((await one.body.json() as { id: string }).id, ids[0])
})
