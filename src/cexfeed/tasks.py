"""Stopping asyncio tasks so they really stop, on every supported Python.

On Python 3.11, ``asyncio.wait_for`` drops a cancellation that arrives in the same loop turn as
the completion of what it waits for: it returns the result and the task goes on as if never
cancelled (CPython gh-86296, fixed in 3.12 where ``wait_for`` is built on ``asyncio.timeout``).
redis-py wraps every socket write in ``wait_for`` (nats-py uses it too), so one ``cancel()`` of a
task reading or publishing through them is now and then lost: a ``while True`` read loop then
runs for ever and whoever awaits it hangs. Such a lost cancellation still shows in
``Task.cancelling()``, which only ``uncancel()`` (what ``asyncio.timeout`` does for its own
cancellations) takes back.

- :func:`cancel_and_wait` cancels again until the task has ended, within a deadline;
- :func:`raise_if_cancel_lost` lets a loop that calls such libraries honour a cancellation
  they swallowed.
"""

from __future__ import annotations

import asyncio
import contextlib


def raise_if_cancel_lost() -> None:
    """Raise ``CancelledError`` when the current task was asked to cancel and the request
    was swallowed on the way (see the module docstring); a no-op outside a task or when no
    cancellation is pending."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


async def cancel_and_wait(task: asyncio.Future, timeout: float | None = 10.0, *, again_every: float = 0.25) -> bool:
    """Cancel ``task`` and wait until it has ended, cancelling it again every
    ``again_every`` s while it runs on (a lost cancellation), for at most ``timeout`` s
    (``None``: no limit). Returns True when it ended (cancelled, finished or failed: its
    result or exception is retrieved and dropped), False when it still runs at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while not task.done():
        task.cancel()
        wait = again_every if deadline is None else min(again_every, deadline - loop.time())
        if wait <= 0:
            break
        # asyncio.wait never cancels what it waits for and swallows nothing of ours
        await asyncio.wait({task}, timeout=wait)
    if not task.done():
        return False
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
    return True
