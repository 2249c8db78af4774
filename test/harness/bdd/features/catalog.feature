@catalog
Feature: Catalog model flows over /v1/catalog
  Entries, lifecycle and pages; a Retired model is refused by admission.

  @ORCH-3060 @ORCH-3470
  Scenario: A model is created, read back, and a conflicting digest is refused
    Given a server with no pools
    When I POST "/v1/catalog/models" with JSON {"id": "model0", "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tags": ["bdd"]}
    Then the response status is 201
    When I GET "/v1/catalog/models/model0"
    Then the response status is 200
    And the response field "id" is "model0"
    And the response field "digest" is "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    And the response field "tags" is ["bdd"]
    When I POST "/v1/catalog/models" with JSON {"id": "model0", "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
    Then the response status is 200
    When I POST "/v1/catalog/models" with JSON {"id": "model0", "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}
    Then the response status is 409

  @ORCH-3031 @ORCH-3037
  Scenario: A Retired model is refused by admission with MODEL_DEPRECATED
    Given a server with a ready llama.cpp pool "pool0" serving "model0"
    When I POST "/v1/catalog/models" with JSON {"id": "model0", "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
    Then the response status is 201
    When I POST "/v1/catalog/models/model0/state" with JSON {"state": "Retired", "deadline_ms": 60000}
    Then the response status is 202
    And the response field "status" is "accepted"
    When I submit task "A" for model "model0"
    Then the response status is 403
    And the response is an error envelope with code "MODEL_DEPRECATED"
    When I scrape the metrics
    Then the scrape has a "TYPE" line for "model_state"

  @ORCH-3031
  Scenario: Only Active and Retired are states
    Given a server with no pools
    When I create the catalog models "model0"
    And I POST "/v1/catalog/models/model0/state" with JSON {"state": "Deprecated"}
    Then the response status is 400
    And the response is an error envelope with code "INVALID_PARAMS"

  @ORCH-3060
  Scenario: A deleted model is gone
    Given a server with no pools
    When I create the catalog models "model0"
    And I DELETE "/v1/catalog/models/model0"
    Then the response status is 204
    When I DELETE "/v1/catalog/models/model0"
    Then the response status is 404
    When I GET "/v1/catalog/models/model0"
    Then the response status is 404

  @ORCH-3470
  Scenario: The model list pages by cursor without duplicates
    Given a server with no pools
    When I create the catalog models "m1, m2, m3, m4, m5"
    And I page through the catalog models 2 at a time
    Then the pages hold "2, 2, 1" items and together the models "m1, m2, m3, m4, m5" once each

  @ORCH-3470
  Scenario: A model GET honours If-None-Match until the entry changes
    Given a server with no pools
    When I create the catalog models "model0"
    And I GET "/v1/catalog/models/model0"
    And I remember the response header "ETag"
    And I GET "/v1/catalog/models/model0" with If-None-Match set to the remembered header
    Then the response status is 304
    And the response body is empty
    When I POST "/v1/catalog/models/model0/state" with JSON {"state": "Retired"}
    And I GET "/v1/catalog/models/model0" with If-None-Match set to the remembered header
    Then the response status is 200
    And the response header "ETag" differs from the remembered one

  @ORCH-3037 @ORCH-3097
  Scenario: The model a pool staged is in the catalog and verifies
    Given a server with a ready llama.cpp pool "pool0" serving "model0"
    When I note the metric "catalog_verifications_total"
    And I GET "/v1/pools/pool0/health"
    And I GET the catalog entry of the model pool "pool0" serves
    Then the response status is 200
    And the response field "state" is "Active"
    When I POST the verify of the model pool "pool0" serves
    Then the response status is 202
    And the response field "status" is "started"
    And the metric "catalog_verifications_total" went up by 1
