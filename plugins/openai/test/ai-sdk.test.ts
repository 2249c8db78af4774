import t from 'tap'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { generateText, streamText } from 'ai'
import { f0 } from '../../../test/fixtures/dataplane.js'

// Issue 11: a second real client, the Vercel AI SDK (v5) through its OpenAI-compatible
// provider, on the completions route of fixture F0 (mock llama.cpp adapter).
t.test('issue 11: the Vercel AI SDK generates and streams text through /v1/completions', async (t) => {
  const h = await f0(t, { mock: { tokens: ['4', '5', '6'] } })
  const provider = createOpenAICompatible({ name: 'llama-orch', baseURL: `${h.base}/v1` })
  const model = provider.completionModel('model0')
  const done = await generateText({ model, prompt: 'Count: 3', maxOutputTokens: 3, temperature: 0, maxRetries: 0 })
  t.equal(done.text, '456')
  t.equal(done.finishReason, 'length')
  t.match(done.usage, { inputTokens: 3, outputTokens: 3, totalTokens: 6 })

  const streamed = streamText({ model, prompt: 'Count: 3', maxOutputTokens: 3, temperature: 0, maxRetries: 0 })
  let text = ''
  for await (const part of streamed.textStream) text += part
  t.equal(text, '456')
  t.equal(await streamed.finishReason, 'length')

  const refused = await generateText({ model, prompt: 'x', temperature: 0.5, maxRetries: 0 }).catch((e: unknown) => e)
  t.match(refused, { statusCode: 400, responseBody: /"param":"temperature"/ }, 'the refusal reaches the caller with its param')
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 2, 'the two served requests were tasks; the refused one was not')
})
