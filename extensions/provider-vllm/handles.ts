/**
 * What the vLLM provider serves. Its own file so that the descriptor, the provisioner and
 * `config check` share one list without loading the provider.
 */
export const VLLM_HANDLES = [{ engine: 'vllm', mode: 'container' }] as const satisfies ReadonlyArray<{ engine: string, mode: 'container' }>
