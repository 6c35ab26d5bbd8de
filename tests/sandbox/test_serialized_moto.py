"""moto is not thread-safe: the daemon lets one request at a time into it, and reads each answer to its end inside."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from dms_tui.sandbox.server import SerializedApp


class _Recorder:
    """A WSGI app that notes how many requests are inside it at once; its body is lazy, like moto's."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        start_response("200 OK", [])
        return self._body()

    def _body(self) -> Iterator[bytes]:
        try:
            time.sleep(0.02)
            yield b"part one, "
            time.sleep(0.02)
            yield b"part two"
        finally:
            with self._count:
                self.inside -= 1


def test_concurrent_requests_take_turns_and_get_their_whole_answer() -> None:
    recorder = _Recorder()
    app = SerializedApp(recorder)
    answers: list[bytes] = []

    def request() -> None:
        answers.append(b"".join(app({}, lambda *_: None)))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == [b"part one, part two"] * 8
    assert recorder.most_inside == 1
    assert recorder.inside == 0  # every lazy body was closed inside its turn
