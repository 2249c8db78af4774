@reload
Feature: Drain and reload of a pool
  Drain and reload answer 202 at once; the outcome shows on GET /v1/pools/{id}/health.

  Background:
    Given a server with a ready llama.cpp pool "pool0" serving "model0"

  @ORCH-2102 @ORCH-3031
  Scenario: A drained pool stops taking tasks
    When I POST "/v1/pools/pool0/drain" with JSON {"deadline_ms": 1000}
    Then the response status is 202
    And the health of pool "pool0" shows "draining" is true
    And the response field "ready" is false
    When I submit task "A" for model "model0"
    Then the response status is 503
    And the response is an error envelope with code "POOL_UNREADY"
    And the response field "retriable" is true

  @ORCH-2103 @ORCH-3031
  Scenario: A reload to another model file comes back Ready on it and serves
    When I POST "/v1/pools/pool0/reload" with JSON {"new_model_ref": "tiny-b.gguf"}
    Then the response status is 202
    And the health of pool "pool0" shows "model_id" ending with "/tiny-b.gguf"
    And the response field "ready" is true
    And the response field "draining" is false
    And the response field "target_model" is "tiny-b.gguf"
    And the response field "operation.state" is "succeeded"
    When I submit task "A" for model "model0"
    And I read the stream of task "A" to the end
    Then the last event of task "A" is "end"

  @ORCH-2103
  Scenario: A reload to a missing model rolls back and records the error
    When I POST "/v1/pools/pool0/reload" with JSON {"new_model_ref": "missing.gguf"}
    Then the response status is 202
    And the health of pool "pool0" shows "operation.state" is "failed"
    And the response field "operation.kind" is "reload"
    And the field "last_error" of the response is not null
    And the response field "ready" is true
    And the response field "model_id" ends with "/tiny.gguf"

  @ORCH-2103
  Scenario: A reload naming a path outside the catalog is refused at once
    When I POST "/v1/pools/pool0/reload" with JSON {"new_model_ref": "../../etc/passwd"}
    Then the response status is 400
    And the response is an error envelope with code "INVALID_PARAMS"
