@adapters
Feature: Health, readiness and capabilities
  What probes and clients learn about the pools, through the public routes only.

  @ORCH-2101 @ORCH-3038
  Scenario: A ready pool shows on /readyz and on its health route
    Given a server with a ready llama.cpp pool "pool0" serving "model0"
    When I GET "/readyz"
    Then the response status is 200
    And the response field "ready" is true
    And the response field "pools.0.id" is "pool0"
    When I GET "/v1/pools/pool0/health"
    Then the response status is 200
    And the response field "live" is true
    And the response field "ready" is true
    And the response field "draining" is false
    And the response field "engine_version" is "b6550-1a2b3c4d"
    And the response field "model_id" ends with "/tiny.gguf"

  @ORCH-2101
  Scenario: A pool whose engine is still loading keeps /readyz at 503
    Given a server with a llama.cpp pool "pool0" serving "model0" whose engine is still loading
    When I GET "/readyz"
    Then the response status is 503
    And the response field "ready" is false
    When I GET "/v1/pools/pool0/health"
    Then the response status is 200
    And the response field "ready" is false
    And the response has fields "live, draining, last_error"
    When I submit task "A" for model "model0"
    Then the response status is 503
    And the response is an error envelope with code "POOL_UNREADY"

  @ORCH-3095 @ORCH-3096
  Scenario: Capabilities name the engine, its version and ctx_max, and the API version
    Given a server with a ready llama.cpp pool "pool0" serving "model0"
    When I GET "/v1/capabilities"
    Then the response status is 200
    And the response field "api_version" equals the OpenAPI info.version
    And the response field "engines.0.engine" is "llamacpp"
    And the response field "engines.0.engine_version" is "b6550-1a2b3c4d"
    And the response field "engines.0.ctx_max" has type number
    And the response field "engines.0.pools.0.pool_id" is "pool0"

  @ORCH-3095
  Scenario: Removed and unknown control routes answer 404
    Given a server with a ready llama.cpp pool "pool0" serving "model0"
    When I GET "/v1/replicasets"
    Then the response status is 404
    When I GET "/v1/pools/nope/health"
    Then the response status is 404
    And the response is an error envelope with code "POOL_UNAVAILABLE"
