import t from 'tap'
import { adapterConformance } from '../../../test/helpers/adapter-conformance.js'
import { tritonTarget } from '../../../test/helpers/conformance-targets.js'

adapterConformance(t, tritonTarget)
