import t from 'tap'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { catalogRoot } from '../index.js'
import { build } from '../../../test/helpers/build.js'

t.test('the catalog root defaults to ~/.cache/models and resolves relative paths (D10)', async (t) => {
  t.equal(catalogRoot({}), join(homedir(), '.cache', 'models'))
  t.equal(catalogRoot({ root: 'rel/dir' }), resolve('rel/dir'))
})

t.test('app.catalog exposes the root and trust policy from the manifest', async (t) => {
  const { app } = await build(t, { catalog: { root: '/srv/models', trust_policy: { mode: 'strict', require_signature: true } } })
  t.equal(app.catalog.root, '/srv/models')
  t.same(app.catalog.trustPolicy, { mode: 'strict', require_signature: true })
  const { app: plain } = await build(t)
  t.equal(plain.catalog.trustPolicy, null)
})
