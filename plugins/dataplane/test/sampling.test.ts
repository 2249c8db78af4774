import t from 'tap'
import { f0 } from '../../../test/fixtures/dataplane.js'
import { samplingParams, withoutEffect } from '../../../sdk/sampling.js'

t.test('issue 11: a sampling parameter the engine does not honour is refused at admission, naming /sampling/<param>', async (t) => {
  const h = await f0(t, { mock: { honours_sampling: ['temperature'] } })
  const res = await h.post(h.task({ sampling: { temperature: 0.7, top_k: 40 } }))
  t.equal(res.status, 400)
  t.match(res.json, { code: 'INVALID_PARAMS', message: /^\/sampling\/top_k is not honoured by engine llamacpp \(engines that honour it: none here\)/ })
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 0, 'nothing enqueued')
  t.equal((await h.post(h.task({ sampling: { temperature: 0.7 } }))).status, 202, 'what it honours runs')
  h.mock.release()
  t.equal((await h.post(h.task({ sampling: { temperature: 0, top_p: 1, top_k: 0, repeat_penalty: 1, logit_bias: {} } }))).status, 202,
    'profile v1\'s own values ask nothing of the engine')
})

t.test('issue 11: a distribution filter under greedy decoding is refused rather than silently without effect', async (t) => {
  const h = await f0(t, { mock: { honours_sampling: ['temperature', 'top_p'] } })
  const res = await h.post(h.task({ sampling: { top_p: 0.9 } }))
  t.equal(res.status, 400)
  t.match(res.json.message, /^\/sampling\/top_p 0\.9 has no effect with greedy decoding \(temperature 0, the default\); send \/sampling\/temperature > 0/)
})

t.test('issue 11: the task schema bounds sampling and refuses unknown parameters', async (t) => {
  const h = await f0(t)
  const unknown = await h.post(h.task({ sampling: { typical_p: 0.5 } }))
  t.match(unknown, { status: 400, json: { message: /body\/sampling\/typical_p is not a field of this request; remove it/ } })
  t.match(await h.post(h.task({ sampling: { temperature: 3 } })), { status: 400, json: { message: /sampling\/temperature must be <= 2/ } })
  t.match(await h.post(h.task({ sampling: { logit_bias: { abc: 1 } } })), { status: 400 })
  t.match(await h.post(h.task({ sampling: { response_format: { type: 'json_schema' } } })), { status: 400, json: { message: /schema/ } })
})

t.test('samplingParams lists the non-neutral parameters; withoutEffect the first filter greedy ignores', async (t) => {
  t.same(samplingParams(undefined), [])
  const s = { temperature: 0, top_p: 0.5, response_format: { type: 'json_object' as const }, logit_bias: { 1: -100 } }
  t.same(samplingParams(s), ['top_p', 'logit_bias', 'response_format'])
  t.equal(withoutEffect({ top_k: 1 }), undefined, 'top_k 1 is greedy already')
  t.equal(withoutEffect({ top_k: 5 }), 'top_k')
  t.equal(withoutEffect({ min_p: 0.1 }), 'min_p')
  t.equal(withoutEffect({ temperature: 0.5, top_p: 0.5 }), undefined)
})
