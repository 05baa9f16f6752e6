"""The OpenAI Videos API as OpenAI publishes it, under the base URL `/openai/v1`."""

OPENAI_PREFIX = "/openai/v1"
