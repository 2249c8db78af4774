@cancel @stream
Feature: Cancel through the public API
  A cancel reaches the running engine request: the orchestrator stops relaying tokens, hangs
  up on the engine and ends the stream with end{canceled:true}.

  Background:
    Given a server with a ready llama.cpp pool "pool0" serving "model0"

  @ORCH-2003 @ORCH-3026
  Scenario: Cancel mid-stream: no token after the cancel acknowledgement
    Given the engine streams 40 tokens 30 ms apart
    When I submit task "A" for model "model0" with max_tokens 40
    And I open the stream of task "A"
    And the stream of task "A" has 2 token frames
    And I cancel task "A"
    Then the response status is 204
    And the response has header "X-Correlation-Id"
    When the stream of task "A" ends
    Then no token frame of task "A" arrived after the cancel acknowledgement
    And the stream of task "A" has fewer than 40 token frames
    And the last event of task "A" is "end"
    And the "end" frame of task "A" has "canceled" equal to true
    And the "end" frame of task "A" counts its token frames in tokens_out
    And the engine saw the client go away mid-stream

  @ORCH-2003 @OC-CORE-1005
  Scenario: A task canceled before its first token ends with no token and no metrics
    Given the engine stalls after 0 tokens
    When I submit task "A" for model "model0" with max_tokens 3
    And I open the stream of task "A"
    And I cancel task "A"
    Then the response status is 204
    When the stream of task "A" ends
    Then the stream of task "A" has exactly the events "started, end"
    And the "end" frame of task "A" has "tokens_out" equal to 0
    And the "end" frame of task "A" has "canceled" equal to true

  @ORCH-2003
  Scenario: A queued task that is canceled leaves the pool's queue
    Given the engine stalls after 1 token
    When I submit task "blocker" for model "model0"
    And I open the stream of task "blocker"
    And the stream of task "blocker" has 1 token frame
    And I submit task "B" for model "model0"
    And the health of pool "pool0" shows "metrics.queue_depth" is 1
    And I cancel task "B"
    Then the response status is 204
    And the health of pool "pool0" shows "metrics.queue_depth" is 0
    When I read the stream of task "B" to the end
    Then the stream of task "B" has no "token" frame
    And the "end" frame of task "B" has "canceled" equal to true

  @ORCH-2003
  Scenario: Cancel of an unknown task is an idempotent 204
    When I POST "/v1/tasks/00000000-0000-4000-8000-000000000000/cancel" with JSON {}
    Then the response status is 204
    And the response body is empty
