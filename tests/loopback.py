"""An ASGI app served by uvicorn on a free port of 127.0.0.1, in a thread of the test's own
process (the add-in server for the JavaScript client and the task pane, HQ's web page for
the browser)."""
from __future__ import annotations

import socket
import threading


def run_in_thread(app, what: str = "the server"):
    """Serve `app` until `stop()` is called: (url, stop). The port is bound here, before uvicorn
    starts, so it is known at once and no other process can take it meanwhile."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"{what} did not start")
        thread.join(0.05)

    def stop():
        server.should_exit = True
        thread.join(5)
        sock.close()

    return f"http://127.0.0.1:{port}", stop
