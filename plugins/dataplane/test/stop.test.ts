import t from 'tap'
import { f0 } from '../../../test/fixtures/dataplane.js'

t.test('issue 11: a task\'s stop sequences reach the engine; the stream ends before the first one', async (t) => {
  const h = await f0(t, { mock: { tokens: ['a', 'b', 'c'] } })
  const body = h.task({ max_tokens: 3, stop: ['c'] })
  t.equal((await h.post(body)).status, 202)
  const s = await h.stream(body.task_id as string)
  t.same(s.frames.filter((f) => f.event === 'token').map((f) => f.json.t), ['a', 'b'])
  t.equal(h.app.dataplane.task(body.task_id as string)?.stopReason, 'stop')
})

t.test('issue 11: an engine whose adapter does not honour stop sequences refuses them at admission, naming /stop', async (t) => {
  const h = await f0(t, { mock: { honours_stop: false } })
  const res = await h.post(h.task({ stop: ['\n'] }))
  t.equal(res.status, 400)
  t.match(res.json, { code: 'INVALID_PARAMS', message: /\/stop is not honoured by engine llamacpp \(engines that honour it: none here\)/ })
  t.equal((await h.post(h.task({ stop: [] }))).status, 202, 'no stop sequence: nothing to honour')
  h.mock.release()
  const bad = await h.post(h.task({ stop: ['a', 'b', 'c', 'd', 'e'] }))
  t.match(bad, { status: 400, json: { message: /body\/stop must NOT have more than 4 items/ } })
})
