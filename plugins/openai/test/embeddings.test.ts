import t from 'tap'
import OpenAI from 'openai'
import { f0 } from '../../../test/fixtures/dataplane.js'

// Issue 11: `POST /v1/embeddings` refusals on fixture F0, whose mock engine embeds nothing (the
// real vectors are tested end to end on the embedded engine, test/e2e/openai.test.ts).
const client = (base: string): OpenAI => new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0, timeout: 10_000 })

t.test('issue 11: an engine that does not embed refuses an embedding at admission; bad input is 400 naming the param', async (t) => {
  const h = await f0(t)
  const sdk = client(h.base)
  await t.rejects(sdk.embeddings.create({ model: 'model0', input: 'x' }), { status: 400, message: /workload embedding is not supported by llamacpp \(supported: completion\)/ })
  await t.rejects(sdk.embeddings.create({ model: 'model0', input: [1, 2, 3] as never }), { status: 400, param: 'input', message: /Invalid value/ })
  await t.rejects(sdk.embeddings.create({ model: 'model0', input: [] }), { status: 400, param: 'input', message: /Invalid value/ })
  await t.rejects(sdk.embeddings.create({ model: 'model0', input: 'x', dimensions: 4 }), { status: 400, param: 'dimensions', message: /model's own size/ })
  await t.rejects(sdk.embeddings.create({ model: 'nope', input: 'x' }), { status: 404, code: 'model_not_found', message: /does not exist/ })
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 0)
})
