import { NAMES } from '../../lib/names.js'
import { containerExtension } from '../../lib/provision/container-plugin.js'
import { TGI_ENGINE } from './provisioner.js'
import { TGI_HANDLES } from './handles.js'

/** Built-in provider `tgi`: pools with `engine: tgi` in mode container (the default for tgi). */
const tgi = containerExtension({
  engine: TGI_ENGINE,
  name: NAMES.providerTgi,
  handles: TGI_HANDLES,
  description: 'Hugging Face TGI in a podman or docker container: image pulled through the outbound gate when absent, run by digest',
})

export const extension = tgi.extension
export default tgi.plugin
