"""Dialect presenters: a `JobView` as each dialect's wire object, as pure functions.

They live outside `api/` because a worker process (no HTTP) builds webhook bodies with them too.
`webhook_bodies.WEBHOOK_BODIES` is the table of dialects whose clients expect their own body.
"""
