"""Error reporting: sentry-sdk is imported and initialised only when SENTRY_DSN is set, on first error."""

from __future__ import annotations

from shared.platform.config import Settings

_initialised = False


def capture_exception(exc: BaseException, settings: Settings | None) -> None:
    """Send an unexpected error to Sentry when configured; a no-op otherwise."""
    global _initialised
    if settings is None or not settings.sentry_dsn:
        return
    import sentry_sdk

    if not _initialised:
        sentry_sdk.init(
            dsn=settings.sentry_dsn,
            environment=settings.environment,
            default_integrations=False,
        )
        _initialised = True
    sentry_sdk.capture_exception(exc)


def server_timing(db_ms: float, db_round_trips: int, total_ms: float) -> str:
    """The Server-Timing header: database time and round trips, and the total."""
    trips = "1 round trip" if db_round_trips == 1 else f"{db_round_trips} round trips"
    return f'db;dur={db_ms:.2f};desc="{trips}", total;dur={total_ms:.2f}'
