"""The Ark dialect: BytePlus ModelArk / Volcengine Ark content generation tasks under /api/v3.

- `wire.py`      the create body as the Ark SDKs send it (pydantic, parsed and documented)
- `flags.py`     the legacy `--rs 720p --dur 5 ...` flags Ark still reads from the prompt text
- `mapping.py`   create body -> GenerationSpec (content[] items -> references and roles)
- `presenter.py` Job -> Ark task object (GET, list, and the `callback_url` body)
- `errors.py`    the error tree -> Ark error bodies and codes
- `routes.py`    create, get, list, delete
"""

ARK_DIALECT = "ark"
ARK_PREFIX = "/api/v3"
