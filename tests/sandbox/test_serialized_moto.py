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


class _Counter:
    """A WSGI app that creates one object per call it carries out (as CreateSecurityGroup does in moto)."""

    def __init__(self) -> None:
        self.created = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        self.created += 1
        start_response("200 OK", [("Content-Type", "text/xml")])
        return iter([f"<GroupId>sg-{self.created}</GroupId>".encode()])


def _call(app: SerializedApp, invocation: str, attempt: int) -> tuple[str, bytes]:
    seen: list[str] = []
    environ = {"HTTP_AMZ_SDK_INVOCATION_ID": invocation, "HTTP_AMZ_SDK_REQUEST": f"attempt={attempt}; max=3"}
    body = b"".join(app(environ, lambda status, headers, *_: seen.append(status)))
    return seen[0], body


def test_a_retried_call_whose_answer_was_lost_gets_the_same_answer_and_runs_once() -> None:
    counter = _Counter()
    app = SerializedApp(counter)
    first = _call(app, "inv-1", 1)  # carried out; its answer is what the SDK lost
    assert _call(app, "inv-1", 2) == first == ("200 OK", b"<GroupId>sg-1</GroupId>")
    assert counter.created == 1  # the retry made no second object (no InvalidGroup.Duplicate for the SDK)
    assert _call(app, "inv-2", 1) == ("200 OK", b"<GroupId>sg-2</GroupId>")  # another call runs
    assert _call(app, "inv-3", 2)[1] == b"<GroupId>sg-3</GroupId>"  # a retry of a call never answered runs
    assert counter.created == 3
