import t from 'tap'
import { build } from '../../../test/helpers/build.js'

const SID = '00000000-0000-4000-8000-0000000000aa'

t.test('GET /v1/sessions/{id}: a stored session as SessionInfo, an unknown one 404 INVALID_PARAMS (D10)', async (t) => {
  const { app } = await build(t)
  const unknown = await app.inject({ method: 'GET', url: `/v1/sessions/${SID}` })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), { code: 'INVALID_PARAMS', message: `session ${SID} is unknown or expired` })
  const s = app.sessions.prospective(SID)
  app.sessions.commit(s, { tokens: 4, time_ms: 0, cost: 0 })
  const known = await app.inject({ method: 'GET', url: `/v1/sessions/${SID}` })
  t.equal(known.statusCode, 200)
  t.same(known.json(), { ttl_ms_remaining: known.json().ttl_ms_remaining, turns: 1, kv_bytes: 0, kv_warmth: false })
  t.ok(known.json().ttl_ms_remaining > 0)
})

t.test('DELETE /v1/sessions/{id} evicts it, idempotently; a malformed id is a 400', async (t) => {
  const { app } = await build(t)
  app.sessions.commit(app.sessions.prospective(SID), { tokens: 1, time_ms: 0, cost: 0 })
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/sessions/${SID}` })).statusCode, 204)
  t.equal(app.sessions.get(SID), undefined)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/sessions/${SID}` })).statusCode, 204)
  const bad = await app.inject({ method: 'GET', url: '/v1/sessions/not-a-uuid' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'INVALID_PARAMS', message: /\/id/ })
})
