import t from 'tap'
import { ApiError } from '../../../sdk/api.js'
import { CatalogError } from '../../../lib/catalog-store/errors.js'
import { toApiError } from '../routes.js'

t.test('issue 10 #5: a catalog still locked after the in-call retries is a retriable 503 with Retry-After, not a 500', async (t) => {
  const err = toApiError(new CatalogError('Busy', 'the catalog at /c is locked by process 1 on h; waited 10000 ms. Retry'))
  t.ok(err instanceof ApiError)
  const api = err as ApiError
  t.equal(api.statusCode, 503)
  t.match(api.envelope(), { code: 'ADMISSION_REJECT', retriable: true, retry_after_ms: 1000, message: /locked by process 1/ })
})
