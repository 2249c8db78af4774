@admission
Feature: Backpressure when a pool's queue is full
  The pool has one slot (the fake llama-server reports total_slots 1) and a queue of one.
  A blocker task holds the slot (its engine stalls after the first token), a second waits.

  @ORCH-2007 @OC-CTRL-2011
  Scenario: A full queue with policy reject answers 429 with Retry-After and X-Backoff-Ms
    Given a server with a ready llama.cpp pool "pool0" serving "model0" and queue capacity 1 with policy "reject"
    And the engine stalls after 1 token
    When I submit task "blocker" for model "model0"
    And I open the stream of task "blocker"
    And the stream of task "blocker" has 1 token frame
    And I submit task "queued" for model "model0"
    Then the response status is 202
    When I note the metric "admission_backpressure_events_total" with labels "policy=reject"
    And I note the metric "tasks_rejected_total" with labels "reason=ADMISSION_REJECT"
    And I submit task "third" for model "model0"
    Then the response status is 429
    And the response is an error envelope with code "ADMISSION_REJECT"
    And the response field "policy_label" is "reject"
    And the response field "retriable" is true
    And the response has header "Retry-After"
    And the response has header "X-Backoff-Ms"
    And the backoff headers agree with retry_after_ms
    And the metric "admission_backpressure_events_total" with labels "policy=reject" went up by 1
    And the metric "tasks_rejected_total" with labels "reason=ADMISSION_REJECT" went up by 1

  @ORCH-2007
  Scenario: A batch arrival at a queue full of interactive work under drop-lru gets 429
    Given a server with a ready llama.cpp pool "pool0" serving "model0" and queue capacity 1 with policy "drop-lru"
    And the engine stalls after 1 token
    When I submit task "blocker" for model "model0"
    And I open the stream of task "blocker"
    And the stream of task "blocker" has 1 token frame
    And I submit task "queued" for model "model0" with priority "interactive"
    And I submit task "late" for model "model0" with priority "batch"
    Then the response status is 429
    And the response is an error envelope with code "QUEUE_FULL_DROP_LRU"
    And the response field "policy_label" is "drop-lru"

  @ORCH-2007
  Scenario: Under drop-lru an interactive arrival evicts the queued batch task
    Given a server with a ready llama.cpp pool "pool0" serving "model0" and queue capacity 1 with policy "drop-lru"
    And the engine stalls after 1 token
    When I submit task "blocker" for model "model0"
    And I open the stream of task "blocker"
    And the stream of task "blocker" has 1 token frame
    And I submit task "X" for model "model0" with priority "batch"
    And I open the stream of task "X"
    And I submit task "Y" for model "model0" with priority "interactive"
    Then the response status is 202
    When the stream of task "X" ends
    Then the last event of task "X" is "error"
    And the "error" frame of task "X" has "code" equal to "QUEUE_FULL_DROP_LRU"

  @ORCH-2005 @ORCH-3099
  Scenario: A session token budget refuses a task that would overspend it
    Given a server with a ready llama.cpp pool "pool0" serving "model0" and a session token budget of 10
    When I submit task "A" for model "model0" with max_tokens 2
    Then the response status is 202
    And the response has header "X-Budget-Tokens-Remaining"
    When I submit task "B" for model "model0" with max_tokens 11
    Then the response status is 400
    And the response is an error envelope with code "INVALID_PARAMS"
