import { createHash } from 'node:crypto'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { buildTinyModel, type TinyModelOptions } from './tiny-model.js'

export interface WrittenModel { path: string, bytes: number, sha256: string }

/** Writes the tiny model to `file` (parent folders created; temp file + rename, so never half-written). */
export async function writeTinyModel (file: string, opts: TinyModelOptions = {}): Promise<WrittenModel> {
  const path = resolve(file)
  const image = buildTinyModel(opts)
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, image)
  await rename(tmp, path)
  return { path, bytes: image.length, sha256: createHash('sha256').update(image).digest('hex') }
}
