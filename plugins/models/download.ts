import { download as fetchFile, type DownloadOptions, type Downloaded } from '../../lib/download/download.js'
import { ModelError } from './errors.js'

export type { DownloadOptions, Downloaded } from '../../lib/download/download.js'

/** The shared downloader, failing with the model provisioner's errors. */
export const download = async (o: DownloadOptions): Promise<Downloaded> =>
  await fetchFile({ fail: (kind, message, details) => new ModelError(kind, message, details), ...o })
