import type { EngineCapability } from '../../sdk/adapter.js'
import { samplingParams, withoutEffect } from '../../sdk/sampling.js'
import type { TaskRequest } from '../../sdk/task.js'

/**
 * Honour or reject at admission (issue 11, openai-compat.md §3): a task that asks for what its
 * engine's adapter does not do — a chat, stop sequences, a sampling parameter — is refused
 * naming the field and the engines that do it, never run with the field dropped. What an
 * engine does is known once a replica is bound (its capability snapshot); before that the
 * pool is not Ready and placement answers. Returns the refusal's message, or undefined.
 */
export function unhonoured (req: TaskRequest, caps: EngineCapability | undefined, all: readonly EngineCapability[]): string | undefined {
  const idle = withoutEffect(req.sampling)
  if (idle !== undefined) {
    return `/sampling/${idle} ${JSON.stringify(req.sampling![idle])} has no effect with greedy decoding (temperature 0, the default); ` +
      `send /sampling/temperature > 0 as well, or leave /sampling/${idle} out`
  }
  if (!caps || !(caps.pools ?? []).some((p) => p.replicas > 0)) return undefined
  const engines = (does: (c: EngineCapability) => boolean): string => all.filter(does).map((c) => c.engine).join(', ') || 'none here'
  if (req.messages !== undefined && caps.features.chat !== true) {
    return `/messages: engine ${req.engine} serves no chat here (engines that do: ${engines((c) => c.features.chat === true)})`
  }
  if (req.stop !== undefined && req.stop.length > 0 && caps.features.stop !== true) {
    return `/stop is not honoured by engine ${req.engine} (engines that honour it: ${engines((c) => c.features.stop === true)})`
  }
  for (const p of samplingParams(req.sampling)) {
    if (!samplingOf(caps).includes(p)) {
      return `/sampling/${p} is not honoured by engine ${req.engine} (engines that honour it: ${engines((c) => samplingOf(c).includes(p))})`
    }
  }
  return undefined
}

/** The sampling parameters a capability snapshot says its engine honours. */
const samplingOf = (c: EngineCapability): readonly string[] => Array.isArray(c.features.sampling) ? c.features.sampling as string[] : []
