import { NAMES } from '../../lib/names.js'
import { containerExtension } from '../../lib/provision/container-plugin.js'
import { VLLM_ENGINE } from './provisioner.js'
import { VLLM_HANDLES } from './handles.js'

/** Built-in provider `vllm`: pools with `engine: vllm` in mode container (the default for vllm). */
const vllm = containerExtension({
  engine: VLLM_ENGINE,
  name: NAMES.providerVllm,
  handles: VLLM_HANDLES,
  description: 'vLLM in a podman or docker container: image pulled through the outbound gate when absent, run by digest',
})

export const extension = vllm.extension
export default vllm.plugin
