import t from 'tap'
import { canonicalJson, canonicalSha256 } from '../canonical.js'

t.test('canonical JSON is RFC 8785: sorted keys, no whitespace, key order irrelevant', async (t) => {
  t.equal(canonicalJson({ b: [1, 'x', null, true, undefined], a: { d: 1.5, c: -0 }, u: undefined }), '{"a":{"c":0,"d":1.5},"b":[1,"x",null,true,null]}')
  t.equal(canonicalSha256({ x: 1, y: 2 }), canonicalSha256({ y: 2, x: 1 }))
  t.equal(canonicalJson('\u2028é"'), JSON.stringify('\u2028é"'))
  t.equal(canonicalJson({ é: 1, z: 2, A: 3 }), '{"A":3,"z":2,"é":1}')
  t.throws(() => canonicalJson(Number.NaN), TypeError)
  t.throws(() => canonicalJson(() => 1), TypeError)
  t.throws(() => canonicalJson(undefined), TypeError, 'a bare undefined has no JSON form')
})
