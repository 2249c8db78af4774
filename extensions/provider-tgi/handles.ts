/**
 * What the TGI provider serves. Its own file so that the descriptor, the provisioner and
 * `config check` share one list without loading the provider.
 */
export const TGI_HANDLES = [{ engine: 'tgi', mode: 'container' }] as const satisfies ReadonlyArray<{ engine: string, mode: 'container' }>
