import t from 'tap'
import { request } from 'undici'
import { f0 } from '../../../test/fixtures/dataplane.js'
import { closeObjects } from '../validation.js'

/** Tasks the data plane has counted as enqueued so far. */
const enqueued = async (h: Awaited<ReturnType<typeof f0>>): Promise<number> => h.metric(/^tasks_enqueued_total\{/)

t.test('issue 10 #7: task bodies are validated as sent, no coercion, and each unknown field is refused by name', async (t) => {
  const h = await f0(t)
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['max_tokens as a string', { max_tokens: '16' }, /body\/max_tokens must be integer/],
    ['max_tokens as a boolean', { max_tokens: true }, /body\/max_tokens must be integer/],
    ['ctx as a string', { ctx: '0' }, /body\/ctx must be integer/],
    ['prompt as a number', { prompt: 123 }, /body\/prompt must be string/],
    ['seed as a string', { seed: '7' }, /body\/seed must be integer/],
    ['inputs of numbers', { workload: 'embedding', inputs: [1, 2] }, /body\/inputs\/0 must be string/],
    ['an unknown field', { temperature: 0.2 }, /body\/temperature is not a field of this request; remove it/],
  ]
  for (const [label, extra, message] of cases) {
    const res = await h.post(h.task(extra))
    t.equal(res.status, 400, label)
    t.equal(res.json.code, 'INVALID_PARAMS', label)
    t.match(res.json.message, message, label)
  }
  const two = await h.post(h.task({ top_k: 4, min_p: 0.1 }))
  t.match(two.json.message, /body\/top_k is not a field.*; body\/min_p is not a field/, 'every unknown field is named at once')
  t.equal(await enqueued(h), 0, 'nothing was admitted')
  t.equal(h.app.dataplane.inspect().queue('pool0')?.len(), 0, 'the queue is unchanged')
})

t.test('issue 10 #8: an empty, null or missing prompt of a completion is refused at admission naming /prompt', async (t) => {
  const h = await f0(t)
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['empty', { prompt: '' }, /\/prompt is required and must be non-empty for workload completion/],
    ['null', { prompt: null }, /body\/prompt must be string/],
    ['missing', { prompt: undefined }, /\/prompt is required and must be non-empty/],
  ]
  for (const [label, extra, message] of cases) {
    const res = await h.post(h.task(extra))
    t.equal(res.status, 400, label)
    t.match(res.json, { code: 'INVALID_PARAMS', retriable: false }, label)
    t.match(res.json.message, message, label)
  }
  t.equal(await enqueued(h), 0, 'nothing was admitted')
  t.equal(h.app.sessions.size, 0, 'no session was created')
})

t.test('issue 10 #9: an over-limit body is 413 and a missing or non-JSON content type 415, both naming what to send', async (t) => {
  const h = await f0(t, { manifest: { server: { body_limit_bytes: 2048 } } })
  const post = async (headers: Record<string, string>, body: string) => {
    const res = await request(`${h.base}/v1/tasks`, { method: 'POST', headers, body })
    return { status: res.statusCode, json: await res.body.json() as Record<string, unknown> }
  }
  const json = JSON.stringify(h.task())
  const big = await post({ 'content-type': 'application/json' }, JSON.stringify(h.task({ prompt: 'x'.repeat(4096) })))
  t.match(big, { status: 413, json: { code: 'INVALID_PARAMS', message: /over this route's limit of 2048 bytes/ } })
  const untyped = await post({}, json)
  t.match(untyped, { status: 415, json: { code: 'INVALID_PARAMS', message: /Content-Type: application\/json/ } }, 'no content type')
  const text = await post({ 'content-type': 'text/plain' }, json)
  t.match(text, { status: 415, json: { code: 'INVALID_PARAMS' } }, 'text/plain is not parsed into a string')
  t.equal((await post({ 'content-type': 'application/json; charset=utf-8' }, json)).status, 202, 'JSON with a charset is taken')
  t.equal(await enqueued(h), 1, 'only the good body was admitted')
})

t.test('closeObjects closes declared objects only, leaves data keywords, open objects and allOf parts as they are', async (t) => {
  const schema = {
    type: 'object',
    properties: {
      a: { type: 'object', properties: { b: { type: 'string' } } },
      meta: { type: 'object', additionalProperties: { type: 'string' } },
      tags: { type: 'object', patternProperties: { '^x-': { type: 'string' } } },
      both: { allOf: [{ type: 'object', properties: { p: {} } }, { type: 'object', properties: { q: {} } }] },
      fixed: { const: { type: 'object', properties: {} } },
    },
  }
  const closed = closeObjects(schema) as Record<string, any>
  t.equal(closed.additionalProperties, false)
  t.equal(closed.properties.a.additionalProperties, false, 'nested objects are closed')
  t.same(closed.properties.meta, schema.properties.meta, 'an object open by declaration stays open')
  t.same(closed.properties.tags, schema.properties.tags, 'patternProperties keeps its own rule')
  t.same(closed.properties.both, schema.properties.both, 'allOf parts are not closed one by one')
  t.same(closed.properties.fixed, schema.properties.fixed, 'data inside const is not a schema')
  t.notOk('additionalProperties' in schema, 'the route\'s own schema is not touched')
})
