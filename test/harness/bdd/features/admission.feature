@admission @stream
Feature: Admission and streaming through the public API
  A task goes from POST /v1/tasks through the queue and placement to a pool whose llama.cpp
  engine (a fake llama-server) streams it back as server-sent events.

  Background:
    Given a server with a ready llama.cpp pool "pool0" serving "model0"

  @ORCH-2001 @ORCH-2008
  Scenario: A valid task is admitted with its queue estimate
    When I submit task "A" for model "model0"
    Then the response status is 202
    And the response has header "X-Correlation-Id"
    And the response has fields "task_id, queue_position, predicted_start_ms, backoff_ms"
    And the response field "task_id" is "$task(A)"
    And the response header "Location" is "/v1/tasks/$task(A)/stream"

  @ORCH-2002 @ORCH-3029
  Scenario: The stream of an admitted task goes started, tokens, metrics, end
    When I submit task "A" for model "model0"
    And I read the stream of task "A" to the end
    Then the response status is 200
    And the response header "Content-Type" starts with "text/event-stream"
    And the stream of task "A" has events in the order "started, token, metrics, end"
    And the stream of task "A" has 5 token frames with "i" counting from 0
    And the "end" frame of task "A" counts its token frames in tokens_out
    And the last event of task "A" is "end"
    And the tokens of task "A" spell "Hello world 👋"
    And the engine received 1 generation request

  @ORCH-2002 @adapters @ORCH-3054
  Scenario: The started frame repeats the admission and names the engine version
    When I submit task "A" for model "model0"
    And I read the stream of task "A" to the end
    Then the "started" frame of task "A" repeats the queue estimate of its admission
    And the "started" frame of task "A" has "engine_version" equal to "b6550-1a2b3c4d"
    And the "metrics" frame of task "A" has fields "on_time_probability, queue_depth"

  @ORCH-2001
  Scenario: max_tokens bounds what the engine generates
    Given the engine streams the tokens "a,b,c,d,e,f"
    When I submit task "A" for model "model0" with max_tokens 3
    And I read the stream of task "A" to the end
    Then the tokens of task "A" spell "abc"
    And the "end" frame of task "A" has "tokens_out" equal to 3

  @ORCH-2006 @OC-CTRL-2030
  Scenario Outline: An invalid <field> is refused with an error envelope
    When I submit task "bad" for model "model0" with "<field>" set to <value>
    Then the response status is 400
    And the response is an error envelope with code "<code>"

    Examples:
      | field       | value        | code           |
      | ctx         | -1           | INVALID_PARAMS |
      | max_tokens  | 0            | INVALID_PARAMS |
      | task_id     | "not-a-uuid" | INVALID_PARAMS |
      | deadline_ms | 0            | DEADLINE_UNMET |

  # Spec api-and-core §5 D.21 says 503 POOL_UNAVAILABLE; the product chose 400 INVALID_PARAMS
  # for a model no configured pool serves (waiting cannot help: plugins/placement/refusal.ts,
  # issue 10 #10) and keeps 503 for pools that exist but are not Ready (health.feature).
  @ORCH-2006
  Scenario: No configured pool serves the model
    When I submit task "A" for model "no-such-model"
    Then the response status is 400
    And the response is an error envelope with code "INVALID_PARAMS"
    And the response has no header "Retry-After"
    And the response field "engine" is "llamacpp"
    And the response body contains "no pool serves model"

  @adapters @ORCH-3275
  Scenario: An engine that drops the connection mid-stream ends the stream with WORKER_RESET
    Given the engine drops the connection after 2 tokens
    When I submit task "A" for model "model0"
    And I read the stream of task "A" to the end
    Then the stream of task "A" has 2 token frames with "i" counting from 0
    And the last event of task "A" is "error"
    And the "error" frame of task "A" has "code" equal to "WORKER_RESET"
    And the "error" frame of task "A" has fields "message, engine"
    And the stream of task "A" has no "end" frame

  @ORCH-3027
  Scenario: Every response of a task echoes the caller's correlation id
    Given my requests carry the header "X-Correlation-Id" with value "abc-123"
    When I submit task "A" for model "model0"
    Then the response header "X-Correlation-Id" is "abc-123"
    When I read the stream of task "A" to the end
    Then the response header "X-Correlation-Id" is "abc-123"
    When I cancel task "A"
    Then the response status is 204
    And the response header "X-Correlation-Id" is "abc-123"
    When I submit task "bad" for model "model0" with "ctx" set to -1
    Then the response status is 400
    And the response header "X-Correlation-Id" is "abc-123"

  @ORCH-3027
  Scenario: Without a correlation id each response gets a fresh one
    When I submit task "A" for model "model0"
    Then the response correlation id is a fresh UUIDv4
    When I read the stream of task "A" to the end
    Then the response correlation id is a fresh UUIDv4

  @ORCH-2004 @ORCH-3021
  Scenario: A streamed task leaves a session that can be read and deleted
    When I submit task "A" for model "model0"
    And I read the stream of task "A" to the end
    And I GET "/v1/sessions/$session(A)"
    Then the response status is 200
    And the response field "turns" is 1
    And the response has fields "ttl_ms_remaining, kv_bytes, kv_warmth"
    When I DELETE "/v1/sessions/$session(A)"
    Then the response status is 204
    And the response has header "X-Correlation-Id"
    When I GET "/v1/sessions/$session(A)"
    Then the response status is 404
