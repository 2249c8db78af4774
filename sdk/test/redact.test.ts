import t from 'tap'
import { redactString, redactValue, isSecretKey, REDACTED } from '../redact.js'

t.test('secret-shaped text is scrubbed inside any string (ORCH-3302, §1.8)', async (t) => {
  const cases: Array<[string, string]> = [
    ['Authorization: Bearer abc.def-123', `Authorization: Bearer ${REDACTED}`],
    ['basic dXNlcjpwYXNz', `basic ${REDACTED}`],
    ['x-api-key: k3y-value', `x-api-key: ${REDACTED}`],
    ['{"api_key":"v4lue"}', `{"api_key":"${REDACTED}"}`],
    ['key sk-proj-AbC123xyz789 leaked', `key sk-${REDACTED} leaked`],
    ['token hf_abcdefghijklmnop', `token hf_${REDACTED}`],
    ['GET https://user:pa55@example.com/x', `GET https://${REDACTED}@example.com/x`],
    ['git clone https://ghp_token@github.com/a/b', `git clone https://${REDACTED}@github.com/a/b`],
    ['/v1/x?api_key=zzz&limit=2', `/v1/x?api_key=${REDACTED}&limit=2`],
    ['https://h/p?a=1&token=abc#frag', `https://h/p?a=1&token=${REDACTED}#frag`],
  ]
  for (const [input, expected] of cases) t.equal(redactString(input), expected, input)
})

t.test('ordinary text is left alone', async (t) => {
  for (const s of ['tokens_out 42', 'max_tokens=64', 'https://example.com/path', 'the monkey sat', 'sk-a', 'key=value']) {
    t.equal(redactString(s), s)
  }
})

t.test('field names that mean "secret" are replaced whole, counters are not', async (t) => {
  for (const k of ['api_key', 'apiKey', 'x-api-key', 'authorization', 'token', 'access_token', 'client_secret', 'password', 'cookie', 'credentials']) {
    t.ok(isSecretKey(k), k)
  }
  for (const k of ['tokens_in', 'tokens_out', 'max_tokens', 'key', 'token_count', 'kv_hint']) t.notOk(isSecretKey(k), k)
})

t.test('nested objects, arrays and errors are copied with secrets removed', async (t) => {
  const err = Object.assign(new Error('upstream said: Bearer s3cr3t'), { code: 'E_UP', api_key: 'sk-zzzzzzzzzz', cause: new Error('at https://u:p@h') })
  const input = {
    config: { adapters: [{ options: { api_key: 'sk-canary-1', url: 'http://u:p@h/' } }] },
    headers: { authorization: 'Bearer x', accept: 'text/plain' },
    tokens_out: 3,
    err,
    nothing: null,
  }
  const out = redactValue(input) as Record<string, any>
  t.equal(out.config.adapters[0].options.api_key, REDACTED)
  t.equal(out.config.adapters[0].options.url, `http://${REDACTED}@h/`)
  t.equal(out.headers.authorization, REDACTED)
  t.equal(out.headers.accept, 'text/plain')
  t.equal(out.tokens_out, 3)
  t.equal(out.nothing, null)
  t.same(out.err, { type: 'Error', message: `upstream said: Bearer ${REDACTED}`, stack: out.err.stack, code: 'E_UP', api_key: REDACTED, cause: out.err.cause })
  t.notMatch(out.err.stack, /s3cr3t/)
  t.equal(out.err.cause.message, `at https://${REDACTED}@h`)
  t.equal(input.headers.authorization, 'Bearer x', 'the input is not mutated')
  t.equal(JSON.stringify(out).includes('sk-canary-1'), false)
})

t.test('null secrets stay null, cycles and depth are bounded, class instances pass through', async (t) => {
  t.same(redactValue({ api_key: null }), { api_key: null })
  const a: Record<string, unknown> = { name: 'a' }
  a.self = a
  t.same(redactValue(a), { name: 'a', self: '[Circular or too deep]' })
  let deep: Record<string, unknown> = { v: 1 }
  for (let i = 0; i < 12; i++) deep = { d: deep }
  t.match(JSON.stringify(redactValue(deep)), /too deep/)
  class Req { url = '/x?token=abc' }
  const req = new Req()
  t.equal((redactValue({ req }) as { req: Req }).req, req, 'left to its serializer')
  const shared = { v: 1 }
  t.same(redactValue({ a: shared, b: shared }), { a: { v: 1 }, b: { v: 1 } }, 'a shared reference is not a cycle')
  const noStack = new Error('m')
  delete noStack.stack
  t.same(redactValue(noStack), { type: 'Error', message: 'm' })
})
