import t from 'tap'
import { engineFor, queueFields, sessionForUser, DEFAULT_DEADLINE_MS } from '../task.js'

t.test('issue 11: X-Llama-Orch-* headers give priority, deadline and session; bad values are 400 naming the header', async (t) => {
  t.match(queueFields({}, undefined), { priority: 'interactive', deadline_ms: DEFAULT_DEADLINE_MS, session_id: /^[0-9a-f-]{36}$/ })
  const s = '11111111-1111-4111-8111-111111111111'
  t.same(queueFields({ 'x-llama-orch-priority': 'batch', 'x-llama-orch-deadline-ms': '2500', 'x-llama-orch-session': s }, 'u'),
    { priority: 'batch', deadline_ms: 2500, session_id: s }, 'the session header wins over user')
  for (const [headers, param] of [
    [{ 'x-llama-orch-priority': 'urgent' }, 'X-Llama-Orch-Priority'],
    [{ 'x-llama-orch-deadline-ms': '0' }, 'X-Llama-Orch-Deadline-Ms'],
    [{ 'x-llama-orch-deadline-ms': '1e3' }, 'X-Llama-Orch-Deadline-Ms'],
    [{ 'x-llama-orch-session': 'not-a-uuid' }, 'X-Llama-Orch-Session'],
  ] as const) {
    t.throws(() => queueFields(headers, undefined), { status: 400, param, message: new RegExp(`^header ${param}`) }, param)
  }
})

t.test('issue 11: one user is one session, always the same, and a valid UUID', async (t) => {
  t.equal(sessionForUser('alice'), sessionForUser('alice'))
  t.not(sessionForUser('alice'), sessionForUser('bob'))
  t.match(sessionForUser('alice'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/)
  t.equal(queueFields({}, 'alice').session_id, sessionForUser('alice'))
})

t.test('issue 11: the model names its engine; unknown is 404 listing the models, two engines 400', async (t) => {
  const c = (id: string, model: string, engine: string) => ({ id, model, engine }) as never
  const configs = [c('a', 'm0', 'llamacpp'), c('b', 'm0', 'llamacpp'), c('v', 'm1', 'vllm'), c('t', 'm1', 'tgi')]
  t.equal(engineFor(configs, 'm0'), 'llamacpp')
  t.throws(() => engineFor(configs, 'zz'), { status: 404, code: 'model_not_found', message: /models served here: m0, m1/ })
  t.throws(() => engineFor(configs, 'm1'), { status: 400, param: 'model', message: /several engines \(tgi, vllm\)/ })
  t.throws(() => engineFor([], 'zz'), { message: /models served here: none/ })
})
