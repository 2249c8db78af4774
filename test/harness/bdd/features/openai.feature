@adapters
Feature: The OpenAI-compatible API over the same pools

  Background:
    Given a server with a ready llama.cpp pool "pool0" serving "model0"

  Scenario: /v1/models lists what the pools serve
    When I GET "/v1/models"
    Then the response status is 200
    And the response field "object" is "list"
    And the response list "data" has an item with "id" equal to "model0"

  @stream
  Scenario: A chat completion is answered from the engine's tokens
    When I ask the chat completions API of model "model0" to say "hi"
    Then the response status is 200
    And the response field "object" is "chat.completion"
    And the response field "choices.0.message.content" is "Hello world 👋"
    And the engine was asked to complete the prompt "<|user|>hi<|assistant|>"

  @stream
  Scenario: A streamed chat completion ends with [DONE]
    When I stream a chat completion of model "model0"
    Then the chat stream spells "Hello world 👋" and ends with [DONE]
