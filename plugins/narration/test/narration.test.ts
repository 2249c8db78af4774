import t from 'tap'
import { Writable } from 'node:stream'
import { createCapture, createLogger, createNarrator, narrationCoverage, capHuman, HUMAN_HARD_MAX, REQUIRED_FLOWS } from '../index.js'
import { build } from '../../../test/helpers/build.js'

t.test('narrate writes actor, action, target, ids and a human sentence (ORCH-3300/3304)', async (t) => {
  const capture = createCapture()
  const n = createNarrator(createLogger({ destination: capture }))
  n.narrate({ actor: 'adapter-host', action: 'submit', target: 'llamacpp', task_id: 't1', pool_id: 'p0' }, 'adapter-host submits task t1 to llamacpp on p0')
  const [r] = capture.records()
  t.match(r, {
    level: 30,
    actor: 'adapter-host',
    action: 'submit',
    target: 'llamacpp',
    task_id: 't1',
    pool_id: 'p0',
    human: 'adapter-host submits task t1 to llamacpp on p0',
  })
  t.notOk('msg' in r!, 'narration records carry human, not msg')
  t.same(capture.find({ actor: 'adapter-host', action: 'submit' }).length, 1)
  t.same(capture.humans(), ['adapter-host submits task t1 to llamacpp on p0'])
})

t.test('levels, child bindings and clear()', async (t) => {
  const capture = createCapture()
  const n = createNarrator(createLogger({ destination: capture, level: 'debug' })).child({ task_id: 't9' })
  n.narrate({ actor: 'orchestratord', action: 'error', target: 't9' }, 'task t9 fails', 'error')
  n.narrate({ actor: 'orchestratord', action: 'health', target: 'p0' }, 'probe', 'debug')
  t.same(capture.records().map((r) => [r.level, r.task_id]), [[50, 't9'], [20, 't9']])
  capture.clear()
  t.same(capture.records(), [])
  t.equal(capture.text(), '')
})

t.test('human is capped hard at 160 characters (spec §4.3)', async (t) => {
  t.equal(capHuman('short'), 'short')
  const long = 'x'.repeat(500)
  t.equal(capHuman(long).length, HUMAN_HARD_MAX)
  t.ok(capHuman(long).endsWith('…'))
  const capture = createCapture()
  createNarrator(createLogger({ destination: capture })).narrate({ actor: 'harness', action: 'end', target: 'x' }, long)
  t.equal(capture.humans()[0]!.length, HUMAN_HARD_MAX)
})

t.test('no secret reaches a record by any path: fields, nested, bindings, message, errors (ORCH-3302)', async (t) => {
  const capture = createCapture()
  const logger = createLogger({ destination: capture }).child({ api_key: 'sk-canary-bind-123456', upstream: 'https://u:canarypass@h/' })
  const n = createNarrator(logger)
  n.narrate({
    actor: 'adapter',
    action: 'error',
    target: 'openai',
    headers: { Authorization: 'Bearer canary-bearer-1' },
    options: { api_key: 'sk-canary-field-123456' },
  }, 'openai rejects key sk-canary-human-123456')
  logger.error(new Error('upstream 401 for key sk-canary-err-1234567'), 'call failed with Bearer canary-bearer-2')
  logger.info({ err: new Error('x') }, 'GET /v1?token=canary-token-3')
  const text = capture.text()
  for (const canary of ['sk-canary', 'canarypass', 'canary-bearer', 'canary-token']) t.notOk(text.includes(canary), `${canary} is redacted`)
  t.match(text, /\[REDACTED\]/)
})

t.test('pretty mode renders the human text and keeps structured fields (ORCH-3303, scenario 26)', async (t) => {
  let out = ''
  const sink = new Writable({ write (chunk, _enc, cb) { out += String(chunk); cb() } })
  const n = createNarrator(createLogger({ format: 'pretty', destination: sink }))
  n.narrate({ actor: 'orchestratord', action: 'admission', target: 'p0', task_id: 'abc', queue_position: 3, api_key: 'sk-canary-pretty-1' },
    'admits task abc at position 3')
  await new Promise((resolve) => setImmediate(resolve))
  t.match(out, /admits task abc at position 3/)
  t.match(out, /queue_position: 3/)
  t.match(out, /actor: "orchestratord"/)
  t.notOk(out.includes('sk-canary'), 'redaction applies in pretty mode too')
  t.notMatch(out, /^\{/, 'not JSON')
})

t.test('coverage reports which required flows narrated (ORCH-3307)', async (t) => {
  const none = narrationCoverage([])
  t.equal(none.total, REQUIRED_FLOWS.length)
  t.equal(none.ratio, 0)
  const records = [
    { level: 30, actor: 'orchestratord', action: 'start', human: 'starts' },
    { level: 30, actor: 'orchestratord', action: 'reject', human: 'rejects task' },
    { level: 30, actor: 'adapter-host', action: 'submit', human: '' },
  ]
  const c = narrationCoverage(records, REQUIRED_FLOWS.slice(0, 4))
  t.same(c.covered, ['server start', 'admission'])
  t.same(c.missing, ['server stop', 'dispatch'], 'a record without human text does not count')
  t.equal(c.ratio, 0.5)
  t.equal(narrationCoverage([], []).ratio, 1)
})

t.test('the plugin decorates app.narration over the app logger, request logs carry correlation_id', async (t) => {
  const { app, capture } = await build(t)
  app.narration.narrate({ actor: 'harness', action: 'end', target: 'x' }, 'harness ends')
  t.equal(capture.find({ actor: 'harness' }).length, 1)
  const res = await app.inject({ url: '/healthz?api_key=canary-q-1', headers: { 'x-correlation-id': 'corr-1', authorization: 'Bearer canary-h-1' } })
  t.equal(res.statusCode, 200)
  const incoming = capture.records().find((r) => r.msg === 'incoming request')
  t.equal(incoming?.correlation_id, 'corr-1')
  t.match(incoming?.req, { method: 'GET', url: '/healthz?api_key=[REDACTED]' })
  t.notOk(capture.text().includes('canary'), 'neither the query secret nor the header appears')
})

t.test('framework records keep msg; the request serializer tolerates partial requests', async (t) => {
  let out = ''
  const sink = new Writable({ write (chunk, _enc, cb) { out += String(chunk); cb() } })
  createLogger({ format: 'pretty', destination: sink }).info('Server listening at http://127.0.0.1:1')
  createLogger({ format: 'pretty', destination: sink }).info({ other: 1 })
  await new Promise((resolve) => setImmediate(resolve))
  t.match(out, /Server listening at http:\/\/127\.0\.0\.1:1/)
  const capture = createCapture()
  createLogger({ destination: capture }).info({ req: { method: 'GET', hostname: 'h', ip: '::1' }, res: { statusCode: 204 } }, 'x')
  t.match(capture.records()[0], { req: { method: 'GET', host: 'h', remoteAddress: '::1' }, res: { statusCode: 204 } })
})
