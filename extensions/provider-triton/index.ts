import { NAMES } from '../../lib/names.js'
import { containerExtension } from '../../lib/provision/container-plugin.js'
import { TRITON_ENGINE } from './provisioner.js'
import { TRITON_HANDLES } from './handles.js'

/** Built-in provider `triton`: pools with `engine: triton` in mode container (the default for triton). */
const triton = containerExtension({
  engine: TRITON_ENGINE,
  name: NAMES.providerTriton,
  handles: TRITON_HANDLES,
  description: 'NVIDIA Triton / TensorRT-LLM in a podman or docker container: image pulled through the outbound gate when absent, run by digest',
  // the context length is baked into the TensorRT-LLM engine (max_seq_len) when it is built
  extraIssues: (pool) => pool.ctx != null
    ? [{ path: '/ctx', message: 'cannot be honoured by Triton (the model repository\'s engine fixes it); remove it' }]
    : [],
})

export const extension = triton.extension
export default triton.plugin
