import type { FrameSink, GenerationStream, StopInfo } from '../../lib/adapter-kit/protocol.js'
import { frameJson, num, text } from '../../lib/adapter-kit/control.js'
import { describeError } from '../../lib/http-client/upstream-error.js'

type Obj = Record<string, unknown>
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? v as Obj : {})

/**
 * The OpenAI Responses API stream (spec adapters §2.5, `api: responses`): semantic SSE events,
 * text in `response.output_text.delta`, and one terminal event: `response.completed`,
 * `response.incomplete` (`max_output_tokens` → length) or `response.failed`; an `error` event
 * may come mid-stream. There is no `[DONE]`. The lifecycle events in between
 * (`response.in_progress`, `output_item.*`, `content_part.*`, `output_text.done`) carry nothing
 * a token stream needs.
 */
export function responsesStream (path: string, body: Obj): GenerationStream {
  const end = (type: string, response: Obj, sink: FrameSink): void => {
    const usage = obj(response.usage)
    const reason = text(obj(response.incomplete_details).reason)
    let stop: StopInfo['stop_reason'] = 'stop'
    if (type === 'response.incomplete') {
      if (reason === 'max_output_tokens') stop = 'length'
      else sink.metrics({ incomplete_reason: reason ?? 'unknown' })
    }
    sink.end({ stop_reason: stop, tokens_out: num(usage.output_tokens), tokens_in: num(usage.input_tokens) })
  }
  return {
    path,
    body,
    frame (data, event, sink) {
      const v = frameJson(data)
      const type = text(v.type) ?? event
      if (type === 'response.output_text.delta') {
        const delta = text(v.delta)
        if (delta !== undefined) sink.token(delta)
      } else if (type === 'response.completed' || type === 'response.incomplete') {
        end(type, obj(v.response), sink)
      } else if (type === 'response.failed') {
        const err = obj(obj(v.response).error)
        sink.fail(
          'stream_error_frame',
          `openai reported a failed response: ${text(err.message) ?? 'no message'}${text(err.code) ? ` (${text(err.code)})` : ''}`
        )
      } else if (type === 'error') {
        sink.fail('stream_error_frame', `openai reported an error mid-stream: ${describeError({ error: v }).message}`)
      }
    },
  }
}
