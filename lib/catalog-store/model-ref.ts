import { createHash } from 'node:crypto'
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path'
import { CatalogError, RefError } from './errors.js'

/** A parsed `model_ref` (spec pools-provisioning-catalog.md §3.2, ORCH-3090). */
export type ModelRef =
  | { scheme: 'hf', org: string, repo: string, revision: string, path: string | null }
  | { scheme: 'file', path: string }
  | { scheme: 'https', url: string }
  | { scheme: 's3', url: string, bucket: string, key: string }
  | { scheme: 'oci', url: string, registry: string, repository: string, tag: string }

export type Scheme = ModelRef['scheme']

function safeSegments (text: string, what: string, ref: string): string[] {
  const parts = text.split('/')
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.includes('\0') || p.includes('\\')) {
      throw new RefError('InvalidRef', `${what} of "${ref}" has an empty, "." or ".." segment; write it as org/repo/path/to/file`)
    }
  }
  return parts
}

/**
 * Parses a model ref. `hf:org/repo[@revision][/path]`, `file:/abs/path`, `https://…`
 * (`http://` too), `s3://bucket/key`, `oci://registry/repo:tag`; anything else is a local
 * path relative to the catalog root (D8). `..` segments are refused everywhere.
 */
export function parseRef (ref: string, root: string): ModelRef {
  const text = ref.trim()
  if (text === '') throw new RefError('InvalidRef', 'the model ref is empty')
  if (text.startsWith('hf:')) {
    const rest = text.slice(3).replace(/^\/+/, '')
    const [org = '', repoRev = '', ...path] = rest.split('/')
    const [repo = '', revision = 'main', ...more] = repoRev.split('@')
    if (org === '' || repo === '' || revision === '' || more.length > 0) {
      throw new RefError('InvalidRef', `"${ref}" needs an org and a repo: hf:org/repo[@revision][/path/to/file]`)
    }
    safeSegments(`${org}/${repo}`, 'the repo', ref)
    const p = path.join('/')
    if (p !== '') safeSegments(p, 'the file path', ref)
    return { scheme: 'hf', org, repo, revision, path: p === '' ? null : p }
  }
  if (text.startsWith('file:')) {
    const p = text.slice(5).replace(/^\/\/(?=\/)/, '')
    if (!isAbsolute(p)) {
      throw new RefError(
        'InvalidRef',
        `"${ref}": file: refs need an absolute path (write a relative path without "file:" to resolve it against the catalog root)`
      )
    }
    if (p.split(/[\\/]/).includes('..')) throw new RefError('InvalidRef', `"${ref}" contains a ".." segment; give the normalised absolute path`)
    return { scheme: 'file', path: normalize(p) }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase()
  if (scheme === 'http' || scheme === 'https') {
    if (!URL.canParse(text)) throw new RefError('InvalidRef', `"${ref}" is not a valid URL`)
    return { scheme: 'https', url: text }
  }
  if (scheme === 's3') {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(text)
    if (!m) throw new RefError('InvalidRef', `"${ref}" needs a bucket and a key: s3://bucket/key`)
    safeSegments(m[1]!, 'the bucket', ref)
    safeSegments(m[2]!.replace(/\/$/, ''), 'the key', ref)
    return { scheme: 's3', url: text, bucket: m[1]!, key: m[2]! }
  }
  if (scheme === 'oci') {
    const m = /^oci:\/\/([^/]+)\/(.+?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/.exec(text)
    if (!m) throw new RefError('InvalidRef', `"${ref}" needs a registry and a repository: oci://registry/repo:tag`)
    safeSegments(m[2]!, 'the repository', ref)
    return { scheme: 'oci', url: text, registry: m[1]!, repository: m[2]!, tag: m[3] ?? 'latest' }
  }
  if (scheme !== undefined) throw new RefError('UnsupportedScheme', `"${ref}" uses the scheme ${scheme}://, which is not supported; use hf:, file:, https://, s3:// or oci://`)
  if (isAbsolute(text)) return parseRef(`file:${text}`, root)
  if (text.split(/[\\/]/).includes('..')) throw new RefError('InvalidRef', `"${ref}" escapes the catalog root with ".."`)
  return { scheme: 'file', path: resolve(root, text) }
}

/** The stable catalog id of a ref (§3.2): `hf:org/repo[@rev][/path]`, `file:<abs>`, or the URL. */
export function refId (ref: ModelRef): string {
  switch (ref.scheme) {
    case 'hf': return `hf:${ref.org}/${ref.repo}${ref.revision === 'main' ? '' : `@${ref.revision}`}${ref.path ? `/${ref.path}` : ''}`
    case 'file': return `file:${ref.path}`
    default: return ref.url
  }
}

/** Where the catalog stages a ref's artifacts (§3.2 recommended layout); `file:` refs stay in place. */
export function localPathFor (ref: ModelRef, root: string): string {
  switch (ref.scheme) {
    case 'file': return ref.path
    case 'hf': return ref.path
      ? join(root, 'gguf', ref.org, ref.revision === 'main' ? ref.repo : `${ref.repo}@${ref.revision}`, ...ref.path.split('/'))
      : join(root, 'transformers', ref.org, `${ref.repo}@${ref.revision}`)
    case 'https': {
      const base = decodeURIComponent(new URL(ref.url).pathname.split('/').pop() ?? '')
      const safe = /^[^/\\\0]+$/.test(base) && base !== '.' && base !== '..' ? base : 'download'
      return join(root, 'url', createHash('sha256').update(ref.url).digest('hex'), safe)
    }
    case 's3': return join(root, 'triton', ref.bucket, ...ref.key.replace(/\/$/, '').split('/'))
    case 'oci': return join(root, 'triton', `${ref.repository}@${ref.tag}`)
  }
}

/** True when `path` is `root` itself or lies below it (after normalisation). */
export function isInside (root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path))
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

/** Throws PathTraversal unless `path` lies strictly below `root`. */
export function assertInside (root: string, path: string, what: string): string {
  const abs = resolve(root, path)
  if (!isInside(root, abs) || resolve(root) === abs) {
    throw new CatalogError(
      'PathTraversal',
      `${what} ${path} is outside the catalog root ${root}; the catalog only writes and deletes below its root`,
      { path, root }
    )
  }
  return abs
}

export interface Digest { algo: string, value: string }

export const DIGEST_RE = /^([a-z0-9]+):([0-9a-f]+)$/i

export function parseDigest (text: string): Digest | null {
  const m = DIGEST_RE.exec(text.trim())
  return m ? { algo: m[1]!.toLowerCase(), value: m[2]!.toLowerCase() } : null
}

export const formatDigest = (d: Digest): string => `${d.algo}:${d.value}`

export type VerificationResult = 'pass' | 'warn' | 'fail'
export interface Verification { result: VerificationResult, reason: string }

/**
 * The original's truth table (§3.5): both present → pass iff algo and value are equal;
 * expected present, actual missing → fail; expected absent → warn.
 */
export function verifyDigest (actual: string | null | undefined, expected: string | null | undefined): Verification {
  if (expected === null || expected === undefined) return { result: 'warn', reason: 'no_expected_digest' }
  if (actual === null || actual === undefined) return { result: 'fail', reason: 'missing_actual_digest' }
  const a = parseDigest(actual)
  const e = parseDigest(expected)
  if (a === null || e === null) return { result: 'fail', reason: 'malformed_digest' }
  return a.algo === e.algo && a.value === e.value ? { result: 'pass', reason: 'digest_match' } : { result: 'fail', reason: 'digest_mismatch' }
}
