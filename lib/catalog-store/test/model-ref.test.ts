import t from 'tap'
import { join } from 'node:path'
import { assertInside, isInside, localPathFor, parseDigest, parseRef, refId, verifyDigest } from '../model-ref.js'

const ROOT = '/cache/models'

t.test('every ref scheme parses to its id and staging path (ORCH-3090..3092, spec §3.2)', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['hf:org/repo/path/file.gguf', 'hf:org/repo/path/file.gguf', `${ROOT}/gguf/org/repo/path/file.gguf`],
    ['hf:/org/repo/f.gguf', 'hf:org/repo/f.gguf', `${ROOT}/gguf/org/repo/f.gguf`],
    ['hf:org/repo@v1/f.gguf', 'hf:org/repo@v1/f.gguf', `${ROOT}/gguf/org/repo@v1/f.gguf`],
    ['hf:org/repo', 'hf:org/repo', `${ROOT}/transformers/org/repo@main`],
    ['file:/abs/m.gguf', 'file:/abs/m.gguf', '/abs/m.gguf'],
    ['file:///abs/m.gguf', 'file:/abs/m.gguf', '/abs/m.gguf'],
    ['/abs/m.gguf', 'file:/abs/m.gguf', '/abs/m.gguf'],
    ['rel/m.gguf', `file:${ROOT}/rel/m.gguf`, `${ROOT}/rel/m.gguf`],
    ['s3://bucket/models/m1/', 's3://bucket/models/m1/', `${ROOT}/triton/bucket/models/m1`],
    ['oci://ghcr.io/org/model:v2', 'oci://ghcr.io/org/model:v2', `${ROOT}/triton/org/model@v2`],
    ['oci://ghcr.io/org/model', 'oci://ghcr.io/org/model', `${ROOT}/triton/org/model@latest`],
  ]
  for (const [ref, id, path] of cases) {
    const parsed = parseRef(ref, ROOT)
    t.equal(refId(parsed), id, `${ref} id`)
    t.equal(localPathFor(parsed, ROOT), path, `${ref} path`)
  }
  const url = parseRef('https://example.com/dl/model%20a.gguf?x=1', ROOT)
  t.match(localPathFor(url, ROOT), /^\/cache\/models\/url\/[0-9a-f]{64}\/model a\.gguf$/)
  t.match(localPathFor(parseRef('http://example.com/', ROOT), ROOT), /\/download$/)
  t.equal(refId(url), 'https://example.com/dl/model%20a.gguf?x=1')
})

t.test('bad refs are refused with InvalidRef / UnsupportedScheme (D8)', async (t) => {
  for (const bad of ['', 'hf:', 'hf:org', 'hf:org//f', 'hf:org/repo/../x', 'hf:org/repo@/f', 'hf:o/r@a@b', 'file:rel/x', 'file:/a/../b', '../up.gguf', 'a/../../b', 's3://bucket', 's3://b/../k', 'oci://reg', 'https://[::1']) {
    t.throws(() => parseRef(bad, ROOT), { code: 'ORC_ERR_MODEL_INVALID_REF', statusCode: 400 }, JSON.stringify(bad))
  }
  t.throws(() => parseRef('ftp://host/x', ROOT), { code: 'ORC_ERR_MODEL_UNSUPPORTED_SCHEME', message: /hf:, file:, https:\/\/, s3:\/\/ or oci:\/\// })
})

t.test('path containment', async (t) => {
  t.ok(isInside(ROOT, `${ROOT}/a/b`))
  t.ok(isInside(ROOT, ROOT))
  t.notOk(isInside(ROOT, '/cache/models2/x'))
  t.notOk(isInside(ROOT, `${ROOT}/../x`))
  t.equal(assertInside(ROOT, 'a/b', 'x'), join(ROOT, 'a/b'))
  t.throws(() => assertInside(ROOT, ROOT, 'the artifact'), { name: 'CatalogError', kind: 'PathTraversal' })
})

t.test('digest helpers follow the original truth table (ORCH-3316, §3.5)', async (t) => {
  t.same(parseDigest('SHA256:ABCD'), { algo: 'sha256', value: 'abcd' })
  t.equal(parseDigest('nope'), null)
  t.same(verifyDigest('sha256:ab', 'SHA256:AB'), { result: 'pass', reason: 'digest_match' })
  t.same(verifyDigest('sha256:ab', 'sha256:cd'), { result: 'fail', reason: 'digest_mismatch' })
  t.same(verifyDigest('md5:ab', 'sha256:ab'), { result: 'fail', reason: 'digest_mismatch' })
  t.same(verifyDigest(null, 'sha256:ab'), { result: 'fail', reason: 'missing_actual_digest' })
  t.same(verifyDigest('sha256:ab', undefined), { result: 'warn', reason: 'no_expected_digest' })
  t.same(verifyDigest('garbage', 'sha256:ab'), { result: 'fail', reason: 'malformed_digest' })
})
