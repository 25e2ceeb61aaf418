"""Login sessions in Redis, addressed by an opaque token `<user id>.<secret>`.

The same token is the browser's session cookie and an API client's bearer token. Redis
keeps only a digest of the secret, so its contents cannot be replayed as tokens.
"""

import hashlib
import secrets

import msgspec

from engine.accounts import keys, scripts
from engine.clock import Clock
from engine.kv import Batcher, Redis
from engine.settings import Settings


class SessionsEnded(msgspec.Struct, frozen=True):
    """Published on `keys.SESSIONS_ENDED_CHANNEL` when logins end: each node closes the
    sockets those logins authenticated at once, not at their next message."""

    user_id: int
    digests: list[str]


class LoginSessions:
    """Sessions in Redis. `resolve`, run for every request and by every socket now and then,
    goes through the batcher: tens of thousands of sockets re-checking cost a few round trips.
    """

    def __init__(self, redis: Redis, batcher: Batcher, settings: Settings, clock: Clock) -> None:
        self.redis = redis
        self.batcher = batcher
        self.clock = clock
        self.idle_ms = settings.session_idle_s * 1000
        self.absolute_ms = settings.session_absolute_s * 1000

    async def create(self, user_id: int) -> str:
        """Start a session and return its token."""
        secret = secrets.token_urlsafe(32)
        digest = _digest(secret)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.session_key(user_id, digest), "created_ms", self.clock())
            pipe.pexpire(keys.session_key(user_id, digest), self.idle_ms)
            pipe.sadd(keys.sessions_index_key(user_id), digest)
            pipe.pexpire(keys.sessions_index_key(user_id), self.absolute_ms)
            await pipe.execute()
        return f"{user_id}.{secret}"

    async def resolve(self, token: str) -> int | None:
        """The user id of a live session (renewing its idle timeout), or None."""
        parsed = _parse(token)
        if parsed is None:
            return None
        user_id, digest = parsed
        alive = await scripts.touch_session(
            self.batcher,
            user_id=user_id,
            digest=digest,
            now_ms=self.clock(),
            idle_ms=self.idle_ms,
            absolute_ms=self.absolute_ms,
        )
        return user_id if alive else None

    async def end(self, token: str) -> None:
        parsed = _parse(token)
        if parsed is None:
            return
        user_id, digest = parsed
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.session_key(user_id, digest))
            pipe.srem(keys.sessions_index_key(user_id), digest)
            await pipe.execute()
        await self._announce(SessionsEnded(user_id, [digest]))

    async def end_others(self, user_id: int, keep_token: str | None) -> int:
        """End every session of the user except `keep_token`'s; return how many ended."""
        parsed = _parse(keep_token) if keep_token else None
        keep = parsed[1] if parsed and parsed[0] == user_id else None
        index = keys.sessions_index_key(user_id)
        # decode_responses=True: members are str, though redis-py types them bytes | str.
        digests = [str(digest) for digest in await self.redis.smembers(index) if digest != keep]
        if not digests:
            return 0
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*(keys.session_key(user_id, digest) for digest in digests))
            pipe.srem(index, *digests)
            ended, _ = await pipe.execute()
        await self._announce(SessionsEnded(user_id, digests))
        return int(ended)

    async def _announce(self, ended: SessionsEnded) -> None:
        """Tell every node, whose sockets of these logins close. After the transaction, not
        in it: a Redis Cluster runs MULTI on one slot's node, and a channel has no slot; a
        node that dies between the two leaves those sockets to their next check of the login
        (JIXU_WS_AUTH_RECHECK_S)."""
        await self.redis.publish(keys.SESSIONS_ENDED_CHANNEL, _encode(ended))


def session_digest(token: str) -> str | None:
    """The digest that names a token's login in Redis (and in `SessionsEnded`), or None."""
    parsed = _parse(token)
    return parsed[1] if parsed else None


_encode = msgspec.json.Encoder().encode


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:40]


def _parse(token: str) -> tuple[int, str] | None:
    user_part, _, secret = token.partition(".")
    if not user_part.isdigit() or len(user_part) > 18 or not 20 <= len(secret) <= 100:
        return None
    return int(user_part), _digest(secret)
