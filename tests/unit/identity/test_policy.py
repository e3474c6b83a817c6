"""Who may do what in the identity context: plain functions of the principal, no I/O."""

from __future__ import annotations

from uuid import UUID

import pytest

from shared.identity import policy
from shared.identity.communities import model
from shared.identity.errors import CommunityNotFoundError, TagNotFoundError
from shared.platform.auth import Membership, Principal
from shared.platform.errors import ForbiddenError

ACME = UUID("c0000000-0000-4000-8000-000000000001")
GLOBEX = UUID("c0000000-0000-4000-8000-000000000002")


def principal(staff_role: str | None = None, **roles: str) -> Principal:
    """A caller with a staff role and/or roles by community name (acme, globex)."""
    ids = {"acme": ACME, "globex": GLOBEX}
    memberships = tuple(Membership(ids[name], name, name, role) for name, role in roles.items())
    return Principal(UUID(int=1), {}, staff_role=staff_role, memberships=memberships)


# --- one community ------------------------------------------------------------------------------------


def test_access_is_full_for_staff_and_admins_basic_for_learners_none_for_outsiders() -> None:
    assert policy.access_to(principal("specialist"), ACME) == "full"
    assert policy.access_to(principal(acme="admin"), ACME) == "full"
    assert policy.access_to(principal(acme="member"), ACME) == "basic"
    assert policy.access_to(principal(globex="admin"), ACME) is None
    with pytest.raises(CommunityNotFoundError):
        policy.require_visible(principal(globex="admin"), ACME)


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        (principal("manager"), True),
        (principal(acme="admin"), True),
        (principal("specialist"), False),
        (principal(acme="member"), False),
    ],
    ids=["manager", "admin", "specialist", "learner"],
)
def test_community_writers_are_staff_writers_and_the_admin(caller: Principal, allowed: bool) -> None:
    if allowed:
        policy.require_community_writer(caller, ACME)
    else:
        with pytest.raises(ForbiddenError):
            policy.require_community_writer(caller, ACME)


def test_admin_changes_only_admin_fields_staff_writers_any() -> None:
    policy.require_fields(principal(acme="admin"), {"name", "brand_color", "forum_enabled"})
    for field in model.PLATFORM_FIELDS:
        with pytest.raises(ForbiddenError):
            policy.require_fields(principal(acme="admin"), {"name", field})
    policy.require_fields(principal("manager"), {"slug", "status", "is_template", "name"})


def test_quota_is_staff_only_and_keys_belong_to_super_admin_or_the_admin() -> None:
    admin, manager, super_admin = principal(acme="admin"), principal("manager"), principal("super_admin")
    policy.require_ai_fields(admin, ACME, {"default_provider", "default_model"}, touches_key=True)
    with pytest.raises(ForbiddenError):
        policy.require_ai_fields(admin, ACME, {"monthly_token_quota"}, touches_key=False)
    policy.require_ai_fields(manager, ACME, {"monthly_token_quota"}, touches_key=False)
    with pytest.raises(ForbiddenError):
        policy.require_ai_fields(manager, ACME, set(), touches_key=True)
    policy.require_ai_fields(super_admin, ACME, {"monthly_token_quota"}, touches_key=True)
    # A manager who is also the community's admin may set that community's key.
    policy.require_ai_fields(principal("manager", acme="admin"), ACME, set(), touches_key=True)


def test_only_super_admins_delete_and_any_staff_reads_the_platform_surface() -> None:
    policy.require_super_admin(principal("super_admin"))
    with pytest.raises(ForbiddenError):
        policy.require_super_admin(principal("manager"))
    policy.require_staff_reader(principal("specialist"))
    with pytest.raises(ForbiddenError):
        policy.require_staff_reader(principal(acme="admin"))


def test_community_readers_are_staff_and_the_admin_outsiders_do_not_see_it() -> None:
    policy.require_community_reader(principal("specialist"), ACME)
    policy.require_community_reader(principal(acme="admin"), ACME)
    with pytest.raises(ForbiddenError):
        policy.require_community_reader(principal(acme="member"), ACME)
    with pytest.raises(CommunityNotFoundError):
        policy.require_community_reader(principal(globex="admin"), ACME)
    with pytest.raises(CommunityNotFoundError):
        policy.require_community_writer(principal(globex="admin"), ACME)


# --- an item found by its own id ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "caller",
    [principal(globex="admin"), principal(acme="member", globex="admin"), principal()],
    ids=["other community's admin", "learner here, admin elsewhere", "nobody"],
)
def test_item_of_a_community_the_caller_may_not_administer_is_missing(caller: Principal) -> None:
    with pytest.raises(TagNotFoundError) as read:
        policy.require_item_reader(caller, ACME, TagNotFoundError)
    with pytest.raises(TagNotFoundError) as write:
        policy.require_item_writer(caller, ACME, TagNotFoundError)
    assert read.value.detail == write.value.detail == TagNotFoundError().detail


def test_item_readers_read_writers_write_and_a_specialist_reads_but_may_not_write() -> None:
    for caller in (principal("specialist"), principal(acme="admin"), principal("manager")):
        policy.require_item_reader(caller, ACME, TagNotFoundError)
    policy.require_item_writer(principal(acme="admin"), ACME, TagNotFoundError)
    policy.require_item_writer(principal("manager"), ACME, TagNotFoundError)
    with pytest.raises(ForbiddenError):
        policy.require_item_writer(principal("specialist"), ACME, TagNotFoundError)


def test_routes_without_a_community_in_the_path_admit_staff_and_admins_of_some_community() -> None:
    for caller in (principal("specialist"), principal(globex="admin")):
        policy.require_any_community_reader(caller)
    for caller in (principal("manager"), principal(globex="admin")):
        policy.require_any_community_writer(caller)
    for caller in (principal(acme="member"), principal()):
        with pytest.raises(ForbiddenError):
            policy.require_any_community_reader(caller)
    for caller in (principal(acme="member"), principal("specialist")):
        with pytest.raises(ForbiddenError):
            policy.require_any_community_writer(caller)
