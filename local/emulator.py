"""The local emulator: moto's server, started as `moto_server` starts it,
except that its dashboard (`/moto-api/data.json`) tracks only the models
the local stack reads there: the mail SES accepted and the SMS SNS
accepted. moto keeps every model instance it ever builds for that
dashboard, every copy of every DynamoDB item of every request included, so
the dump grew with the requests served (270,000 items and 12 seconds a
read after one test run) and so did the emulator's memory. Nothing else
of moto changes: the services answer exactly as they would.

Usage: python local/emulator.py -H 127.0.0.1 -p <port>
"""

import sys

from moto.core import common_models

# The services whose models `GET /moto-api/data.json` still shows.
TRACKED = {"ses", "sns"}


def _new(cls, *args, **kwargs):
    instance = super(common_models.BaseModel, cls).__new__(cls)
    if cls.__module__.split(".")[1] in TRACKED:
        cls.instances_tracked.append(instance)
    return instance


common_models.BaseModel.__new__ = _new

from moto.server import main  # noqa: E402  (after the patch, on purpose)

if __name__ == "__main__":
    sys.exit(main())
