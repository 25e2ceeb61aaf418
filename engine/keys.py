"""Redis key names: one convention for every domain.

Each domain builds its keys in its own `keys.py` (`accounts`, `progress`, `exams`,
`commerce`), and nowhere else; each builder's docstring gives the key's type and TTL.
A key is words joined by `:`, lower case, with `-` inside a word:

- A user's key (a login, a learner's hot state): `{u:<user id>}:<what>[:<id>[:<part>]]`,
  e.g. `{u:42}:session:<digest>`, `{u:42}:play:7`, `{u:42}:exam:9:answers`. The hash tag
  `{u:<id>}` comes first: all of one user's keys hash to one Redis Cluster slot, so a
  script may take several of them (in KEYS, never built inside the script).
- Any other key: `<what>:<kind>:<value>` (`login-failures:address:<ip>`), or `<what>` alone
  for a structure all nodes share (the `progress` stream). No script takes such a key
  together with a user's.

`<what>` is unique across the domains (session, sessions, lease, play, exam, card-failures,
login-failures, progress), so they share one keyspace without a domain prefix.
"""


def user_tag(user_id: int) -> str:
    """The hash tag that starts every key of one user."""
    return f"{{u:{user_id}}}"
