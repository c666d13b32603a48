"""onward/take.py copies faust-streaming's `Stream.noack_take`: an upgrade that changes it must be noticed."""
from __future__ import annotations

import hashlib
import importlib.metadata
import inspect

import faust.streams

from onward.take import COPIED_FROM

RECHECK = (
    "onward/take.py copies faust-streaming {copied}'s {name}, but the installed faust-streaming {installed} has a "
    "different source. Before accepting the upgrade, read the new source beside onward/take.py and re-check: the "
    "buffer of events (not values) and its back-pressure at max_, acks left to the caller (enable_acks restored on "
    "exit), the processor removed on exit, registration in stream._active_agens, and the private attributes it "
    "uses (_enable_passive, _processors, current_event). Carry over any fix, then put the new SHA-256 {digest} "
    "and version in onward.take.COPIED_FROM."
)


def _digest(obj) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()


def test_faust_noack_take_is_still_what_onward_take_copied():
    installed = importlib.metadata.version("faust-streaming")
    for name, obj in (("faust.streams.Stream.noack_take", faust.streams.Stream.noack_take),
                      ("faust.streams._tracks_buffer_agen", faust.streams._tracks_buffer_agen)):
        digest = _digest(obj)
        assert digest == COPIED_FROM[name], RECHECK.format(copied=COPIED_FROM["version"], name=name,
                                                           installed=installed, digest=digest)


def test_the_private_stream_attributes_onward_take_uses_still_exist():
    stream = faust.streams.Stream
    for attribute in ("_enable_passive", "add_processor", "wait_for_stopped", "wait", "crash"):
        assert callable(getattr(stream, attribute, None)), f"faust's Stream has no {attribute}: re-check onward/take.py"
    init = inspect.getsource(stream.__init__)
    for attribute in ("_active_agens", "_processors", "enable_acks"):
        assert f"self.{attribute}" in init, f"faust's Stream no longer sets {attribute}: re-check onward/take.py"
