import t from 'tap'
import { build } from '../../../test/helpers/build.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('a legal client id is echoed byte-identical on every reply (OC-CTRL-2052)', async (t) => {
  const { app } = await build(t, {}, { setup: (a) => a.get('/boom', async () => { throw new Error('boom') }) })
  for (const url of ['/healthz', '/readyz', '/metrics', '/nope', '/boom']) {
    const res = await app.inject({ url, headers: { 'x-correlation-id': 'abc-123' } })
    t.equal(res.headers['x-correlation-id'], 'abc-123', `${url} → ${res.statusCode}`)
  }
})

t.test('absent, oversized or illegal ids get a fresh UUIDv4 each time', async (t) => {
  const { app } = await build(t)
  const ids = new Set<string>()
  for (const headers of [{}, {}, { 'x-correlation-id': 'x'.repeat(257) }, { 'x-correlation-id': 'é-not-ascii' }]) {
    const res = await app.inject({ url: '/healthz', headers })
    const id = String(res.headers['x-correlation-id'])
    t.match(id, UUID_V4)
    ids.add(id)
  }
  t.equal(ids.size, 4)
  const max = 'y'.repeat(256)
  t.equal((await app.inject({ url: '/healthz', headers: { 'x-correlation-id': max } })).headers['x-correlation-id'], max, '256 chars is still echoed')
})

t.test('request.correlationId is the request id used in logs', async (t) => {
  const { app, capture } = await build(t, {}, { setup: (a) => a.get('/id', async (req) => ({ id: req.correlationId })) })
  const res = await app.inject({ url: '/id', headers: { 'x-correlation-id': 'c-7' } })
  t.same(res.json(), { id: 'c-7' })
  t.ok(capture.records().some((r) => r.correlation_id === 'c-7'))
})
