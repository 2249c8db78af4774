import type { PoolConfig } from '../sdk/pool-config.js'

/**
 * Which engines serve a logical model among the configured pools (a pool's `model` is what a
 * task's `model_ref` or an OpenAI request's `model` names), sorted. The native API infers a
 * task's engine from it, the OpenAI API its engine and its 404.
 */
export function enginesServing (configs: readonly Pick<PoolConfig, 'model' | 'engine'>[], model: string): string[] {
  return [...new Set(configs.filter((c) => c.model === model).map((c) => c.engine))].sort()
}
