"""The API called in-process: what `casework send` and `casework import` talk to.

One path for every write, whoever makes it: a command-line tool goes through the same
authentication, validation, access log and answers as an HTTP client, without a server
to run (issue 10 for `send`, issue 15 for `import`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from casework.config import Settings


@asynccontextmanager
async def in_process_client(settings: Settings, token: str, name: str
                            ) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app built from `settings`, its lifespan entered, sending `token`
    as the bearer; `name` tells the tools apart in the base URL."""
    from api.app import create_app  # the app's imports, only for a command that uses it

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=f"http://casework.{name}", timeout=60,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            yield client
