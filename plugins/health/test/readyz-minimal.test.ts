import t, { type Test } from 'tap'
import { request } from 'undici'
import { build, fixturePool, FIXTURE_ADAPTER } from '../../../test/helpers/build.js'

const KEY = 'k-issue10'
const CAUSE = 'model gate: file:/srv/models/private/llama.gguf: /srv/models/private/llama.gguf does not exist'

async function serve (t: Test, keys: string[]) {
  const { app } = await build(t, { auth: { api_keys: keys }, adapters: [FIXTURE_ADAPTER], pools: [fixturePool('a'), fixturePool('b')] })
  app.pool.registry.upsert('a', { state: 'Ready', health: { live: true, ready: true } })
  app.pool.registry.upsert('b', { state: 'Backoff', last_error: CAUSE })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(base + path, { headers })
    return { status: res.statusCode, body: await res.body.text() }
  }
  return get
}

for (const [mode, keys] of [['on', [KEY]], ['off', []]] as const) {
  t.test(`issue 10 #12: with auth ${mode}, /readyz names each pool's id, state and readiness only; the cause is on the pool's health route`, async (t) => {
    const get = await serve(t, [...keys])
    const readyz = await get('/readyz')
    t.equal(readyz.status, 503)
    t.same(JSON.parse(readyz.body), { ready: false, pools: [{ id: 'a', state: 'Ready', ready: true }, { id: 'b', state: 'Backoff', ready: false }] })
    t.notMatch(readyz.body, /last_error|\/srv|gguf/, 'no error text, no path')
    const headers: Record<string, string> = mode === 'on' ? { 'x-api-key': KEY } : {}
    if (mode === 'on') t.equal((await get('/v1/pools/b/health')).status, 401, 'the details need a key')
    const health = await get('/v1/pools/b/health', headers)
    t.equal(health.status, 200)
    t.equal(JSON.parse(health.body).last_error, CAUSE, 'an authenticated caller sees why')
  })
}
