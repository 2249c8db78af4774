import t from 'tap'
import { assertModelId, idProblem, MAX_ID_LENGTH, normaliseDigest } from '../ids.js'

t.test('issue 10 #11: catalog ids a file name and a metric label can carry', async (t) => {
  for (const ok of ['tiny', 'model0', 'hf:org/repo/f.gguf', 'hf:org/repo@v1/sub/f.gguf', 'file:/models/a b.gguf', 'https://h/x.gguf?y=1', 'oci://r/repo:tag', 'a"b', 'x'.repeat(MAX_ID_LENGTH)]) {
    t.equal(idProblem(ok), null, ok)
  }
  const bad: Array<[unknown, RegExp]> = [
    ['', /non-empty/], [' ', /non-empty/], [7, /non-empty/], [' x', /whitespace/], ['x\n', /whitespace/],
    ['a\u0000b', /control/], ['a\tb', /control/], ['a\u007fb', /control/], ['a\u0085b', /control/], ['a\u2028b', /control/],
    ['file:../../etc/passwd', /"\.\." segment/], ['hf:org/../x', /"\.\." segment/], ['..', /"\.\." segment/], ['a/..', /"\.\." segment/],
    ['a\\b', /backslash/], ['x'.repeat(MAX_ID_LENGTH + 1), /at most 512 characters, got 513/],
    ['constructor', /reserved/], ['__proto__', /reserved/], ['toString', /reserved/], ['prototype', /reserved/],
  ]
  // labels escape every non-ASCII character: U+0085 and U+2028 would break the TAP stream
  const label = (v: unknown): string => JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  for (const [id, why] of bad) t.match(idProblem(id), why, label(id))
  t.throws(() => assertModelId('a\u0000', 'id (path)'), { statusCode: 400, details: { field: 'id (path)' }, message: /id \(path\) must not contain control characters.*expected a model ref/ })
})

t.test('issue 10 #11: digests are sha256 with 64 hex digits or sha512 with 128, stored lowercase', async (t) => {
  t.equal(normaliseDigest(`sha256:${'A'.repeat(64)}`), `sha256:${'a'.repeat(64)}`)
  t.equal(normaliseDigest(`sha512:${'0'.repeat(128)}`), `sha512:${'0'.repeat(128)}`)
  for (const bad of ['sha256:1', `sha256:${'a'.repeat(63)}`, `sha256:${'a'.repeat(65)}`, `sha256:${'g'.repeat(64)}`, `sha512:${'a'.repeat(64)}`,
    `md5:${'a'.repeat(32)}`, `constructor:${'a'.repeat(64)}`, `${'a'.repeat(64)}`, ` sha256:${'a'.repeat(64)}`, '', 12]) {
    t.throws(() => normaliseDigest(bad, 'sbom.digest'), { statusCode: 400, details: { field: 'sbom.digest' }, message: /sbom\.digest must be sha256:<64 hex digits>/ }, String(bad))
  }
})
