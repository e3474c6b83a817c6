"""Event handlers writing notifications, registered on the worker's registry at import.

The handler names are stable keys of `app.applied_events`: never rename them.
"""

from __future__ import annotations

from shared.notifications import service
from shared.platform.events import registry

registry.subscribe(service.REPLIED, name="notifications.forum.replied")(service.on_replied)
registry.subscribe(service.AWARDED, name="notifications.achievement.awarded")(service.on_awarded)
registry.subscribe(service.INVITATIONS_SENT, name="notifications.invitations.delivery_requested")(
    service.on_invitations_sent
)
