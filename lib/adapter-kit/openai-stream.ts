import type { GenerationStream, FrameSink, StopInfo } from './protocol.js'
import { frameJson, num, text } from './control.js'
import { describeError } from '../http-client/upstream-error.js'

export type OpenAiApi = 'completions' | 'chat'

export interface OpenAiStreamOptions {
  engine: string
  api: OpenAiApi
  path: string
  body: Record<string, unknown>
  /** What `finish_reason: "stop"` means: vLLM tells EOS from a stop string by `stop_reason`; OpenAI does not. */
  stopMeans: 'eos-unless-stop-reason' | 'stop'
}

/**
 * The OpenAI-compatible stream (vLLM, TGI/Triton OpenAI frontends, remote OpenAI; spec
 * §2.2, §2.5): `choices[0].text` or `choices[0].delta.content` per chunk, `finish_reason`
 * on the last choice chunk, usage in a final chunk with `choices: []`, then `data: [DONE]`.
 * Error objects may arrive inside a `data:` frame.
 */
export function openAiStream (o: OpenAiStreamOptions): GenerationStream {
  let finish: string | undefined
  let stopString = false
  let tokensOut: number | undefined
  let tokensIn: number | undefined
  let fingerprint: string | undefined

  const end = (sink: FrameSink): void => {
    if (fingerprint !== undefined) sink.metrics({ system_fingerprint: fingerprint })
    let stop: StopInfo['stop_reason'] = 'eos'
    if (finish === 'length') stop = 'length'
    else if (finish === 'stop') stop = o.stopMeans === 'stop' || stopString ? 'stop' : 'eos'
    else if (finish !== undefined) { stop = 'stop'; sink.metrics({ finish_reason: finish }) }
    sink.end({ stop_reason: stop, tokens_out: tokensOut, tokens_in: tokensIn })
  }

  return {
    path: o.path,
    body: o.body,
    frame (data, event, sink) {
      if (data === '[DONE]') { end(sink); return }
      const v = frameJson(data)
      if (event === 'error' || v.error !== undefined || v.object === 'error') {
        sink.fail('stream_error_frame', `${o.engine} reported an error mid-stream: ${describeError(v).message}`)
        return
      }
      fingerprint = text(v.system_fingerprint) ?? fingerprint
      const choice = Array.isArray(v.choices) ? v.choices[0] as Record<string, unknown> | undefined : undefined
      if (choice) {
        const delta = o.api === 'chat' ? text((choice.delta as Record<string, unknown> | undefined)?.content) : text(choice.text)
        if (delta !== undefined) sink.token(delta)
        const f = text(choice.finish_reason)
        if (f !== undefined) {
          finish = f
          stopString = choice.stop_reason !== null && choice.stop_reason !== undefined
        }
      }
      const usage = v.usage as Record<string, unknown> | null | undefined
      if (usage) {
        tokensOut = num(usage.completion_tokens) ?? tokensOut
        tokensIn = num(usage.prompt_tokens) ?? tokensIn
      }
    },
    eof (sink) {
      // a server that ends after the finish chunk without `[DONE]` still finished the task
      if (finish !== undefined) end(sink)
      else sink.fail('reset_after_headers', `${o.engine} closed the stream before [DONE]`)
    },
  }
}
