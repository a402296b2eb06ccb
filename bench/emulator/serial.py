"""The bench's emulator: the local stack's (`local/emulator.py`: moto's
server, its dashboard tracking only SES and SNS), with one change for the
load run of `make bench`: DynamoDB requests are served one at a time.

moto serves each request on a thread, and its DynamoDB backend has no lock:
`TransactWriteItems` deep-copies the tables (to roll back) while other
threads write them ("dictionary changed size during iteration", a 500), and
two transactions on the same item both pass their conditions and both
write. DynamoDB has neither fault: every request is atomic, and of two
conflicting transactions one is cancelled. Serialising the DynamoDB actions
gives the emulator that isolation; moto runs under one interpreter lock
anyway, so little throughput is lost. Nothing else changes.

Usage: python bench/emulator/serial.py -H 127.0.0.1 -p <port>
"""

import os
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "local"))

import emulator  # noqa: E402,F401  (local/emulator.py: patches moto's dashboard)
from moto.dynamodb.responses import DynamoHandler  # noqa: E402

_LOCK = threading.Lock()
_call_action = DynamoHandler.call_action


def _serial_call_action(self):
    with _LOCK:
        return _call_action(self)


DynamoHandler.call_action = _serial_call_action

from moto.server import main  # noqa: E402  (after the patches, on purpose)

if __name__ == "__main__":
    sys.exit(main())
