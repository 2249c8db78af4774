@observability
Feature: Observability over HTTP: metrics, narration, no secrets

  @OC-METRICS-7101 @ORCH-3460
  Scenario: /metrics after a streamed task has the contract's types and an engine_version sample
    Given a server with a ready llama.cpp pool "pool0" serving "model0"
    When I submit task "A" for model "model0"
    And I read the stream of task "A" to the end
    And I scrape the metrics
    Then the response status is 200
    And the response header "Content-Type" starts with "text/plain; version=0.0.4"
    And the scrape has a "TYPE" line for "tasks_enqueued_total"
    And the scrape has a "TYPE" line for "queue_depth"
    And some sample of the scrape has the label engine_version="b6550-1a2b3c4d"

  @narration-required @ORCH-3027 @ORCH-3304
  Scenario: Admission and start narration carry the queue estimate and the correlation id
    Given a server with a ready llama.cpp pool "pool0" serving "model0"
    And my requests carry the header "X-Correlation-Id" with value "bdd-narration-1"
    When I submit task "A" for model "model0"
    And I read the stream of task "A" to the end
    Then the narration has an "admission" record for task "A" with fields "queue_position, predicted_start_ms, pool_id, engine"
    And the narration has an "started" record for task "A" with fields "queue_position, predicted_start_ms, engine_version"
    And the narration of task "A" carries the correlation id "bdd-narration-1"

  @ORCH-3302 @ORCH-3278
  Scenario: A canary secret sent in headers never reaches the logs
    Given a server with a ready llama.cpp pool "pool0" serving "model0" and the API key "sk-canary-bdd-7f3a9c1e5b"
    And my requests carry the header "X-API-Key" with value "sk-canary-bdd-7f3a9c1e5b"
    And my requests carry the header "Authorization" with value "Bearer sk-canary-bearer-42d8e6"
    When I submit task "A" for model "model0"
    Then the response status is 202
    When I read the stream of task "A" to the end
    And I submit task "bad" for model "model0" with "ctx" set to -1
    Then the response status is 400
    And the response body does not contain "sk-canary-bdd-7f3a9c1e5b"
    And no log line contains "sk-canary-bdd-7f3a9c1e5b"
    And no log line contains "sk-canary-bearer-42d8e6"
    And neither the metrics nor the capabilities contain "sk-canary-bdd-7f3a9c1e5b"

  @ORCH-3035
  Scenario: With an API key configured, the gate answers 401 and 403 but /metrics stays public
    Given a server with a ready llama.cpp pool "pool0" serving "model0" and the API key "valid"
    When I GET "/v1/capabilities"
    Then the response status is 401
    And the response has header "X-Correlation-Id"
    When I GET "/v1/capabilities" with header "X-API-Key" set to "invalid"
    Then the response status is 403
    When I GET "/v1/capabilities" with header "X-API-Key" set to "valid"
    Then the response status is 200
    When I GET "/metrics"
    Then the response status is 200
    And the response has header "X-Correlation-Id"
