"""Organisation choices of admin forms and filters."""

from engine.accounts.types import Org


def org_choices(orgs: list[Org]) -> list[tuple[int, str]]:
    """(id, name) indented by depth below the first organisation listed (the scope's root)."""
    depth: dict[int, int] = {}
    choices = []
    for org in orgs:
        parent = org.parent_id
        depth[org.id] = depth[parent] + 1 if parent is not None and parent in depth else 0
        choices.append((org.id, "\u3000" * depth[org.id] + org.name))
    return choices
