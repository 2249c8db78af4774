import t, { type Test } from 'tap'
import { request } from 'undici'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnCli, waitForOutput } from '../../../test/helpers/cli.js'
import { build } from '../../../test/helpers/build.js'
import { createKeyCheck } from '../index.js'
import { pathOf } from '../gate.js'

const KEY = 'valid'

async function serve (t: Test, keys: string[]) {
  const built = await build(t, { auth: { api_keys: keys } })
  const base = await built.app.listen({ port: 0, host: '127.0.0.1' })
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(base + path, { headers })
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() }
  }
  return { ...built, get }
}

t.test('G34, G35: 401 without a key, 403 with a wrong one, 200 with the right one; correlation id on all', async (t) => {
  const { get } = await serve(t, [KEY, 'second-key'])
  const none = await get('/v1/openapi.json')
  t.equal(none.status, 401)
  t.equal(none.body, '', 'empty body')
  t.ok(none.headers['x-correlation-id'], 'X-Correlation-Id on 401 (D1)')
  const wrong = await get('/v1/openapi.json', { 'x-api-key': 'invalid', 'x-correlation-id': 'g35' })
  t.equal(wrong.status, 403)
  t.equal(wrong.headers['x-correlation-id'], 'g35')
  t.equal((await get('/v1/openapi.json', { 'x-api-key': KEY })).status, 200)
  t.equal((await get('/v1/openapi.json', { 'x-api-key': 'second-key' })).status, 200, 'any configured key')
  t.equal((await get('/v1/capabilities')).status, 401, 'the gate runs before routing')
  t.equal((await get('/v1/openapi.json', { 'x-api-key': '' })).status, 401, 'an empty key is a missing key')
})

t.test('issue 11: OpenAI clients authenticate with Authorization: Bearer; X-API-Key wins when both come', async (t) => {
  const { get } = await serve(t, [KEY])
  t.equal((await get('/v1/models', { authorization: `Bearer ${KEY}` })).status, 200)
  t.equal((await get('/v1/models', { authorization: 'Bearer nope' })).status, 403)
  t.equal((await get('/v1/models', { authorization: `Basic ${KEY}` })).status, 401, 'only a bearer token is a key')
  t.equal((await get('/v1/models', { 'x-api-key': 'nope', authorization: `Bearer ${KEY}` })).status, 403, 'X-API-Key is read first')
})

t.test('G36: /metrics, /healthz and /readyz stay public', async (t) => {
  const { get } = await serve(t, [KEY])
  const m = await get('/metrics')
  t.equal(m.status, 200)
  t.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  t.ok(m.headers['x-correlation-id'])
  t.equal((await get('/healthz')).status, 200)
  t.equal((await get('/readyz?verbose=1')).status, 200)
})

t.test('G37: no log line carries the key value or the header name', async (t) => {
  const { get, capture } = await serve(t, ['s3cr3t-key-value'])
  await get('/v1/openapi.json', { 'x-api-key': 's3cr3t-key-value' })
  await get('/v1/openapi.json', { 'x-api-key': 'wrong-s3cr3t' })
  await get('/v1/nope', { 'x-api-key': 's3cr3t-key-value' })
  const text = capture.text()
  t.notMatch(text, /s3cr3t/)
  t.notMatch(text, /x-api-key/i)
  t.notMatch(text, /api_key/)
})

t.test('no keys: no gate at all', async (t) => {
  const { get } = await serve(t, [])
  t.equal((await get('/v1/openapi.json')).status, 200)
})

t.test('constant-time check: every key is compared, lengths do not matter', async (t) => {
  const check = createKeyCheck(['alpha', 'a-much-longer-key'])
  t.ok(check('alpha'))
  t.ok(check('a-much-longer-key'))
  t.notOk(check('alph'))
  t.notOk(check(''))
  t.notOk(createKeyCheck([])('alpha'))
  t.equal(pathOf('/metrics?x=1'), '/metrics')
  t.equal(pathOf('/metrics'), '/metrics')
})

t.test('decision 11: a non-loopback bind warns only without the gate; the key never reaches the log', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'orc-auth-'))
  for (const [keys, warns] of [[[], true], [['s3cr3t-key-value'], false]] as const) {
    const file = join(dir, `m${keys.length}.yaml`)
    await writeFile(file, `auth: { api_keys: ${JSON.stringify(keys)} }\npools: []\n`)
    const child = spawnCli(t, ['serve', '--config', file, '--port', '0', '--host', '0.0.0.0'])
    await waitForOutput(child, /orchestrator listens on/)
    t.equal(/non-loopback/.test(child.output()), warns, warns ? 'warns without keys' : 'silent with the gate on')
    t.notMatch(child.output(), /s3cr3t/)
    child.proc.kill('SIGTERM')
    await child.exited
  }
})
