import t from 'tap'
import { API_VERSION } from '../../../sdk/api.js'
import { build } from '../../../test/helpers/build.js'

t.test('GET /v1/openapi.json documents the API with info.version = API_VERSION (ORCH-3096)', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/v1/openapi.json' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().info.version, API_VERSION)
  t.equal(res.json().openapi.startsWith('3.'), true)
})
