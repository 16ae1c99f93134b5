"""The gateway service's stop request, as a signal handler makes it."""
from __future__ import annotations

import threading

from edge_gateway.service import Gateway
from edge_gateway.settings import GatewaySettings


def test_a_stop_signal_landing_inside_the_supervisors_wait_does_not_hang_the_gateway():
    """SIGTERM's handler runs in the main thread, which spends its time in the supervisor's wait on
    the stop event. Landing where that wait holds the event's lock, a handler that sets the event
    waits for itself: a gateway under systemd then never exits on stop (seen in the bench)."""
    gw = Gateway(GatewaySettings())
    returned = threading.Event()

    def main_thread() -> None:
        with gw.stop_event._cond:  # type: ignore[attr-defined]  # Event.wait's state just before it returns
            gw.stop()  # the handler, in the same thread
        returned.set()

    threading.Thread(target=main_thread, daemon=True).start()
    assert returned.wait(5), "stop() from a signal handler waited on the lock its own thread holds"
