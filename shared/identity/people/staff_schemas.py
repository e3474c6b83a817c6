"""The staff contract: platform staff and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from shared.platform.validation import Body, View

StaffRole = Literal["super_admin", "manager", "specialist"]



class StaffView(View):
    """A platform staff member and their role."""

    user_id: UUID
    email: str
    first_name: str
    last_name: str
    role: StaffRole
    granted_by: UUID | None
    created_at: datetime
    updated_at: datetime


class StaffPage(View):
    """One page of platform staff, longest-serving first."""

    items: list[StaffView]
    next_cursor: str | None


class SetStaffRole(Body):
    """The staff role the user holds afterwards."""

    role: StaffRole
