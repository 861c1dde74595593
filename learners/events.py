"""Domain events that higher apps subscribe to, so that `learners` never imports them.

`attempt_recorded` is sent after the transaction that stored the attempt commits, with the
keyword argument `attempt_id`. Receivers connect in their AppConfig.ready().
"""

from django.dispatch import Signal

attempt_recorded = Signal()


def attempt_recorded_send(*, attempt_id: int) -> None:
    """Tell subscribers that an attempt was stored (call it from transaction.on_commit)."""
    attempt_recorded.send(sender="learners", attempt_id=attempt_id)
