import t from 'tap'
import { f0 } from '../../../test/fixtures/dataplane.js'

t.test('issue 11: a chat task on an engine that serves no chat is refused at admission, naming /messages', async (t) => {
  const h = await f0(t, { mock: { serves_chat: false } })
  const res = await h.post(h.task({ prompt: undefined, messages: [{ role: 'user', content: 'hi' }] }))
  t.equal(res.status, 400)
  t.match(res.json, { code: 'INVALID_PARAMS', message: /\/messages: engine llamacpp serves no chat here \(engines that do: none here\)/ })
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 0)
  t.equal((await h.post(h.task())).status, 202, 'a prompt still runs there')
})
