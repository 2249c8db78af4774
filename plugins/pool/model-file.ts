/**
 * Whether a local file is a model its engine can load, judged by its magic bytes (issue 10 #1),
 * before the catalog registers it or an engine reads it. An engine handed any other file
 * prints what it found instead ("Expected "GGUF" but got "root""), and that line would carry
 * the file's first bytes into last_error and the log: the refusal here names no byte.
 */
import { open } from 'node:fs/promises'

/** The magic each engine's model files start with; engines not listed load folders or formats not checked here. */
export const MODEL_MAGIC: Readonly<Record<string, string>> = { llamacpp: 'GGUF' }

/**
 * Why `path` is no model file for `engine`, or null when it is (or the engine has no magic,
 * or the file does not exist: the model gate reports that with its own message).
 */
export async function notAModel (path: string, engine: string): Promise<string | null> {
  const magic = MODEL_MAGIC[engine]
  if (magic === undefined) return null
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => err)
  if (!('read' in fh)) {
    if (fh.code === 'ENOENT') return null
    return `cannot be opened (${fh.code ?? 'error'}); engine ${engine} needs a readable ${magic} model file`
  }
  try {
    const head = Buffer.alloc(magic.length)
    const got = await fh.read(head, 0, magic.length, 0).then((r) => r.bytesRead, (err: NodeJS.ErrnoException) => err)
    const loads = `engine ${engine} loads ${magic} files`
    if (typeof got !== 'number') return `is not a ${magic} model file (${got.code === 'EISDIR' ? 'it is a directory' : 'it cannot be read'}); ${loads}`
    if (got < magic.length || head.toString('latin1') !== magic) return `is not a ${magic} model file (it does not start with the ${magic} magic); ${loads}`
    return null
  } finally {
    await fh.close()
  }
}

/** Quoted bytes after "got" or "magic" in an engine's output (llama.cpp, node-llama-cpp): never repeated to anyone. */
const QUOTED_BYTES = /\b(got|magic(?: characters)?:?)\s*("[^"\n]*"|'[^'\n]*')/gi

/** An engine output line with any file bytes it quotes replaced, for last_error and the log. */
export const withoutFileBytes = (line: string): string => line.replace(QUOTED_BYTES, '$1 <file bytes withheld>')
