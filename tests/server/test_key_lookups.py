"""API-key lookups (server/auth.py): requests with one key that miss the cache together
share one lookup, read outside a transaction; a revoked or unknown key is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from s3files.server.api_error import ApiError
from s3files.server.auth import Authenticator
from s3files.server.db.migrate import upgrade
from s3files.server.db.models import ApiKey
from s3files.server.db.reads import Reads
from s3files.server.db.session import create_engine, session_factory, unit_of_work
from s3files.server.keys.service import create_key, revoke_key
from s3files.server.settings import ServiceSettings


def test_a_burst_with_one_key_is_one_lookup(tmp_path: Path) -> None:
    async def main() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
        await upgrade(engine)
        sessions = session_factory(engine)
        async with unit_of_work(sessions) as session:
            alice = (await create_key(session, owner="alice")).secret
            gone = (await create_key(session, owner="gone")).secret
        async with unit_of_work(sessions) as session:
            await revoke_key(session, gone[:12])
        reads = Reads(engine)
        authenticator = Authenticator(ServiceSettings(data_dir=tmp_path))
        authenticator.reads = reads
        lookups: list[Any] = []
        read = reads.one_or_none

        async def counted(model: Any, statement: Any, parameters: Any = None) -> Any:
            lookups.append(parameters)
            await asyncio.sleep(0.05)  # the burst arrives while the one lookup is in flight
            return await read(model, statement, parameters)

        reads.one_or_none = counted  # type: ignore[method-assign]
        try:
            burst = [authenticator.authenticate(sessions, f"Bearer {alice}") for _ in range(50)]
            principals = await asyncio.gather(*burst)
            assert {p.owner for p in principals} == {"alice"} and len(lookups) == 1
            async with unit_of_work(sessions) as session:  # the first use is recorded
                key = (await session.execute(_key_of("alice"))).scalar_one()
                assert key.last_used_at is not None
            for secret in (gone, "s3f_unknown"):
                refused = await asyncio.gather(
                    *[authenticator.authenticate(sessions, f"Bearer {secret}") for _ in range(5)],
                    return_exceptions=True,
                )
                for outcome in refused:
                    assert isinstance(outcome, ApiError) and outcome.status == 401
            assert len(lookups) == 3
        finally:
            await reads.aclose()
            await engine.dispose()

    asyncio.run(main())


def _key_of(owner: str) -> Any:
    from sqlalchemy import select

    return select(ApiKey).where(ApiKey.owner == owner)


@pytest.mark.parametrize("waiters", [1, 3])
def test_a_waiter_that_goes_away_leaves_the_lookup_to_the_others(
    tmp_path: Path, waiters: int
) -> None:
    async def main() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
        await upgrade(engine)
        sessions = session_factory(engine)
        async with unit_of_work(sessions) as session:
            secret = (await create_key(session, owner="bob")).secret
        authenticator = Authenticator(ServiceSettings(data_dir=tmp_path))
        try:
            tasks = [
                asyncio.ensure_future(authenticator.authenticate(sessions, f"Bearer {secret}"))
                for _ in range(waiters + 1)
            ]
            await asyncio.sleep(0)
            tasks[0].cancel()  # the one that started the lookup
            results = await asyncio.gather(*tasks[1:])
            assert [p.owner for p in results] == ["bob"] * waiters
            assert tasks[0].cancelled()
        finally:
            await engine.dispose()

    asyncio.run(main())
