"""service/runtime/protocol.py against the encoded messages both languages share
(service/test/fixtures/protocol-messages.json), and its refusals. Run by service/src/protocol/fixture.test.ts
(python3 -B, so nothing is written into the runtime folder that sandboxes mount)."""

import base64
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime"))
import protocol  # noqa: E402

FIXTURE = os.path.join(HERE, "..", "fixtures", "protocol-messages.json")
BYTES_FIELDS = ("event", "bytecode", "body")


def from_fixture(message):
    """The fixture's message as protocol.py's dict: bytes fields as bytes."""
    out = dict(message)
    for key in BYTES_FIELDS:
        value = out.get(key)
        if isinstance(value, dict):
            out[key] = value["utf8"].encode() if "utf8" in value else base64.b64decode(value["base64"])
    return out


def decode(frame):
    """A whole frame to its message, by what its channel carries (the type tells which decoder a test uses)."""
    size = protocol.frame_size(frame[:4])
    payload = frame[4:]
    if size != len(payload):
        raise AssertionError(f"the frame announces {size} bytes and holds {len(payload)}")
    if payload[:1] in (protocol.CALL, protocol.SETUP):
        return protocol.decode_request(payload)
    if payload.startswith(b'{"op":'):
        return protocol.decode_fork_request(payload)
    if b"\n" in payload:
        return protocol.decode_reply(payload)
    return protocol.decode_answer(payload)


class Fixture(unittest.TestCase):
    def test_every_message_decodes_and_encodes_byte_for_byte(self):
        with open(FIXTURE) as f:
            entries = json.load(f)["messages"]
        self.assertGreater(len(entries), 10)
        for entry in entries:
            with self.subTest(entry["what"]):
                message = from_fixture(entry["message"])
                frame = base64.b64decode(entry["frame"])
                self.assertEqual(decode(frame), message)
                self.assertEqual(protocol.encode(message), frame)


class Refusals(unittest.TestCase):
    def test_what_is_not_a_fork_request_is_refused_with_its_id(self):
        with self.assertRaisesRegex(protocol.ProtocolError, "fork requests only: this message is not one"):
            protocol.decode_fork_request(b'C{"event": 1}')
        with self.assertRaises(protocol.ProtocolError) as caught:
            protocol.decode_fork_request(b'{"op": "exec", "id": "x2"}')
        self.assertEqual(caught.exception.request_id, "x2")
        self.assertRegex(str(caught.exception), "fork requests only, not 'exec'")
        with self.assertRaisesRegex(protocol.ProtocolError, "unknown fork kind"):
            protocol.decode_fork_request(b'{"op": "fork", "id": "x3", "kind": "thread"}')
        with self.assertRaisesRegex(protocol.ProtocolError, "netns is 0 or 1"):
            protocol.decode_fork_request(b'{"op": "fork", "id": "x4", "kind": "spare", "netns": 2}')
        with self.assertRaisesRegex(protocol.ProtocolError, "paths: not a list"):
            protocol.decode_fork_request(b'{"op": "fork", "id": "x5", "kind": "spare", "paths": "/a"}')

    def test_a_request_with_fields_left_out_keeps_them_out(self):
        message = protocol.decode_fork_request(b'{"op": "fork", "id": "x1", "kind": "instance", "cgroups": 0}')
        self.assertEqual(message, {"type": "fork", "id": "x1", "kind": "instance", "cgroups": 0})

    def test_an_instance_names_what_it_does_not_serve(self):
        with self.assertRaisesRegex(protocol.ProtocolError, "serves calls only, not b'F' requests"):
            protocol.decode_request(b'F{"op": "fork"}')
        with self.assertRaisesRegex(protocol.ProtocolError, "not JSON"):
            protocol.decode_setup(b"S{oops\n")

    def test_answers_are_exactly_one_shape(self):
        with self.assertRaisesRegex(protocol.ProtocolError, "says neither"):
            protocol.decode_answer(b'{"id": "f1"}')
        with self.assertRaisesRegex(protocol.ProtocolError, "pid answer has no field 'ready'"):
            protocol.decode_answer(b'{"id": "f1", "pid": 3, "ready": true}')
        with self.assertRaisesRegex(protocol.ProtocolError, "needs an error"):
            protocol.decode_answer(b'{"id": "f1", "ok": false}')

    def test_a_frame_over_the_limit_is_refused(self):
        with self.assertRaisesRegex(protocol.ProtocolError, "exceeds the 10-byte limit"):
            protocol.frame_size((11).to_bytes(4, "big"), 10)


if __name__ == "__main__":
    unittest.main()
